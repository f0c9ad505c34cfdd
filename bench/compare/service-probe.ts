/** Whether a local service answers, so that a peer whose service is down is skipped with a note. */
import { connect } from 'node:net';

/** Resolves with undefined when a TCP connection to host:port opens within a second, else why not. */
export function probeTcp(host: string, port: number, service: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(1000, () => done(`${service} at ${host}:${port} did not answer`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (error) => done(`${service} at ${host}:${port}: ${error.message}`));
  });
}
