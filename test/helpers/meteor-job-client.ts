/**
 * The original client stack, unchanged: npm `ddp@0.12.1` plus `meteor-job@1.5.2`, connected to
 * a test server, with promise wrappers over their callbacks for the tests' convenience.
 */
import DDPClient from 'ddp';
import Job from 'meteor-job';

export { Job };

export interface MeteorJobClient {
  ddp: DDPClient;
  /** A raw DDP call; rejects with the raw error object, as meteor-job callbacks get it. */
  call(name: string, ...params: unknown[]): Promise<unknown>;
  close(): void;
}

export async function connectMeteorJob(port: number, roots: string[] = ['queue']): Promise<MeteorJobClient> {
  const ddp = new DDPClient({ host: '127.0.0.1', port, autoReconnect: false, maintainCollections: true });
  await new Promise<void>((resolve, reject) => ddp.connect((error) => (error ? reject(error as Error) : resolve())));
  // Naming the root lets a process connect more than once (one test after another).
  Job.setDDP(ddp, roots);
  return {
    ddp,
    call: (name, ...params) =>
      new Promise((resolve, reject) => ddp.call(name, params, (error, result) => (error ? reject(error) : resolve(result)))),
    close: () => ddp.close(),
  };
}

/** Turns a meteor-job callback API into a promise: `await viaCallback((cb) => job.save(cb))`. */
export function viaCallback<T>(start: (cb: (error: unknown, result: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, result) => (error ? reject(error) : resolve(result))));
}
