// The part of meteor-job@1.5.2 (the original jobCollection client) that tests and examples
// use; the package ships no types. Callbacks get raw DDP error objects.
declare module 'meteor-job' {
  type Callback<T = unknown> = (error: unknown, result: T) => void;
  type JobDocument = Record<string, unknown> & { _id?: string; runId?: string | null; type: string; data: Record<string, unknown> };

  interface JobQueueOptions {
    concurrency?: number;
    payload?: number;
    prefetch?: number;
    pollInterval?: number | false;
    workTimeout?: number;
    callbackStrict?: boolean;
    errorCallback?: (error: Error) => void;
  }

  class JobQueue {
    pause(): this;
    resume(): this;
    trigger(): this;
    shutdown(options?: { level?: 'soft' | 'normal' | 'hard'; quiet?: boolean }, cb?: () => void): void;
    length(): number;
    running(): number;
    idle(): boolean;
    full(): boolean;
  }

  class Job {
    constructor(root: string, type: string, data: Record<string, unknown>);
    constructor(root: string, doc: JobDocument);
    static forever: number;
    static foreverDate: Date;
    static jobPriorities: Record<string, number>;
    static jobStatuses: string[];
    static setDDP(ddp: unknown, roots?: string | string[]): void;
    static getWork(root: string, type: string | string[], options: { maxJobs?: number; workTimeout?: number }, cb: Callback<Job | Job[]>): void;
    static processJobs(root: string, type: string | string[], options: JobQueueOptions, worker: (job: Job | Job[], cb: () => void) => void): JobQueue;
    static processJobs(root: string, type: string | string[], worker: (job: Job | Job[], cb: () => void) => void): JobQueue;
    static makeJob(root: string, doc: JobDocument): Job;
    static getJob(root: string, id: string, options: { getLog?: boolean }, cb: Callback<Job | undefined>): void;
    static getJob(root: string, id: string, cb: Callback<Job | undefined>): void;
    static getJobs(root: string, ids: string[], options: { getLog?: boolean }, cb: Callback<Job[]>): void;
    static pauseJobs(root: string, ids: string[], cb?: Callback<boolean>): void;
    static resumeJobs(root: string, ids: string[], cb?: Callback<boolean>): void;
    static readyJobs(root: string, ids: string[], options: { force?: boolean; time?: Date }, cb?: Callback<boolean>): void;
    static readyJobs(root: string, ids: string[], cb?: Callback<boolean>): void;
    static cancelJobs(root: string, ids: string[], options: { antecedents?: boolean; dependents?: boolean }, cb?: Callback<boolean>): void;
    static cancelJobs(root: string, ids: string[], cb?: Callback<boolean>): void;
    static restartJobs(root: string, ids: string[], options: Record<string, unknown>, cb?: Callback<boolean>): void;
    static restartJobs(root: string, ids: string[], cb?: Callback<boolean>): void;
    static removeJobs(root: string, ids: string[], cb?: Callback<boolean>): void;
    static startJobServer(root: string, options: Record<string, unknown>, cb?: Callback<boolean>): void;
    static startJobServer(root: string, cb?: Callback<boolean>): void;
    static shutdownJobServer(root: string, options: { timeout?: number }, cb?: Callback<boolean>): void;
    static shutdownJobServer(root: string, cb?: Callback<boolean>): void;

    readonly doc: JobDocument;
    readonly type: string;
    readonly data: Record<string, unknown>;
    priority(level: string | number): this;
    retry(options: number | { retries?: number; wait?: number; until?: Date; backoff?: 'constant' | 'exponential' }): this;
    repeat(options: number | { repeats?: number; wait?: number; schedule?: unknown; until?: Date }): this;
    delay(ms: number): this;
    after(time: Date): this;
    depends(jobs: Job[]): this;
    save(options?: { cancelRepeats?: boolean }, cb?: Callback<string | null>): void;
    save(cb: Callback<string | null>): void;
    refresh(options?: { getLog?: boolean }, cb?: Callback<Job | false>): void;
    refresh(cb: Callback<Job | false>): void;
    log(message: string, options?: { level?: string; data?: Record<string, unknown>; echo?: boolean }, cb?: Callback<boolean>): void;
    log(message: string, cb: Callback<boolean>): void;
    progress(completed: number, total: number, options?: { echo?: boolean }, cb?: Callback<boolean | null>): void;
    progress(completed: number, total: number, cb: Callback<boolean | null>): void;
    done(result?: unknown, options?: { repeatId?: boolean; delayDeps?: number }, cb?: Callback<boolean | string>): void;
    done(result: unknown, cb: Callback<boolean | string>): void;
    done(cb: Callback<boolean | string>): void;
    fail(error?: unknown, options?: { fatal?: boolean }, cb?: Callback<boolean>): void;
    fail(error: unknown, cb: Callback<boolean>): void;
    pause(cb?: Callback<boolean>): void;
    resume(cb?: Callback<boolean>): void;
    ready(options?: { force?: boolean; time?: Date }, cb?: Callback<boolean>): void;
    ready(cb: Callback<boolean>): void;
    cancel(options?: { antecedents?: boolean; dependents?: boolean }, cb?: Callback<boolean>): void;
    cancel(cb: Callback<boolean>): void;
    restart(options?: { retries?: number; until?: Date; antecedents?: boolean; dependents?: boolean }, cb?: Callback<boolean>): void;
    restart(cb: Callback<boolean>): void;
    rerun(options?: { repeats?: number; until?: Date; wait?: number }, cb?: Callback<string | false>): void;
    rerun(cb: Callback<string | false>): void;
    remove(cb?: Callback<boolean>): void;
  }
  export default Job;
}
