// Compile-time checks of the worker library's types: `npm run typecheck` fails if any line
// marked @ts-expect-error compiles (or any unmarked one does not). The checks are in a function
// that never runs; at run time the test only looks at the real exports.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Job, JobQueue, type JobQueueOptions, type WorkerCallback } from '../../worker/index.ts';

/** Whether two types are the same (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

export function typeChecks(): void {
  // @ts-expect-error: no option `concurency` (a misspelt option name)
  Job.processJobs('queue', 'email', { concurency: 2 }, async () => ({}));
  // @ts-expect-error: no option `maxJobs` on a queue (it is a getWork option)
  Job.processJobs('queue', 'email', { maxJobs: 2 }, async () => ({}));
  // @ts-expect-error: `pollInterval` is a number or false
  Job.processJobs('queue', 'email', { pollInterval: '5s' }, async () => ({}));
  // @ts-expect-error: 'urgent' is not a priority name
  new Job('queue', 'email', {}).priority('urgent');
  // @ts-expect-error: retry backoff is 'constant' or 'exponential'
  new Job('queue', 'email', {}).retry({ backoff: 'linear' });
  // @ts-expect-error: a worker takes (job) or (job, cb), not three parameters
  Job.processJobs('queue', 'email', {}, (_job: Job, _cb: WorkerCallback, _extra: string) => undefined);
  // @ts-expect-error: a worker's first parameter is a Job, not a string
  Job.processJobs('queue', 'email', {}, (job: string) => job.length);
  // @ts-expect-error: with payload > 1 the worker gets an array of jobs, not one job
  Job.processJobs('queue', 'email', { payload: 5 }, (job: Job) => job.done());
  // @ts-expect-error: the callback a worker gets takes no result
  Job.processJobs('queue', 'email', {}, (_job, cb) => cb({ done: true }));
  // @ts-expect-error: a typed job's data has no `from`
  Job.processJobs<{ to: string }>('queue', 'email', {}, async (job) => job.data.from);
  // @ts-expect-error: shutdown levels are soft, normal and hard
  void new JobQueue('queue', 'email', {}, async () => undefined, Job.makeJob).shutdown({ level: 'graceful' });
  // @ts-expect-error: cancel has no `force` option
  void new Job('queue', 'email', {}).cancel({ force: true });
  // @ts-expect-error: done's callback gets a boolean or a repeat id, not a Job
  void new Job('queue', 'email', {}).done({}, {}, (_error: Error | null, _result?: Job) => undefined);

  // The right shapes compile, with the parameter types inferred.
  Job.processJobs('queue', 'email', { concurrency: 2, payload: 3 }, (jobs, cb) => {
    jobs satisfies Job[];
    cb();
  });
  Job.processJobs('queue', 'email', async (job) => {
    job satisfies Job;
    return { sent: true };
  });
  Job.processJobs<{ to: string }>('queue', 'email', { prefetch: 1, pollInterval: false }, async (job) => job.data.to.length);
  const options: JobQueueOptions = { payload: 2 };
  Job.processJobs('queue', 'email', options, (work) => (Array.isArray(work) ? work.length : work.id));
  void Job.getWork('queue', 'email', { maxJobs: 3 }).then((jobs) => jobs satisfies Job[]);
  void Job.getWork('queue', 'email').then((job) => job satisfies Job | undefined);
  Job.getWork('queue', 'email', { maxJobs: 3 }, (_error, jobs) => jobs satisfies Job[] | undefined);
  Job.getWork('queue', 'email', (_error, job) => job satisfies Job | undefined);
}

/** Calls declared once as `WithCallback`: each form keeps its own types. */
export function callbackStyleChecks(): void {
  const _found = Job.getJob('queue', 'id');
  true satisfies Equal<typeof _found, Promise<Job | undefined>>;
  const _typed = Job.getJob<{ to: string }>('queue', 'id');
  true satisfies Equal<typeof _typed, Promise<Job<{ to: string }> | undefined>>;
  const _calledBack = Job.getJob('queue', 'id', (_error, _job) => {
    true satisfies Equal<typeof _error, Error | null>;
    true satisfies Equal<typeof _job, Job | undefined>;
  });
  true satisfies Equal<typeof _calledBack, void>;
  Job.getJob('queue', 'id', { getLog: true }, (_error, job) => job?.doc.log);
  // @ts-expect-error: getJob has no option `getLogs`
  void Job.getJob('queue', 'id', { getLogs: true });
  // @ts-expect-error: the id comes before the options
  void Job.getJob('queue', { getLog: true });
  // @ts-expect-error: getJob's callback gets a Job, not a string
  Job.getJob('queue', 'id', (_error: Error | null, _job?: string) => undefined);
  const _many = Job.getJobs('queue', ['a', 'b']);
  true satisfies Equal<typeof _many, Promise<Job[]>>;
  const _result = Job.waitFor<{ sum: number }>('queue', 'id', { timeoutMs: 100 });
  true satisfies Equal<typeof _result, Promise<{ sum: number }>>;
  // @ts-expect-error: waitFor has no option `timeout`
  void Job.waitFor('queue', 'id', { timeout: 100 });
  const _ready = Job.readyJobs('queue');
  true satisfies Equal<typeof _ready, Promise<boolean>>;
  // @ts-expect-error: cancelJobs has no option `force`
  void Job.cancelJobs('queue', ['a'], { force: true });
  const _started = Job.startJobServer('queue');
  true satisfies Equal<typeof _started, Promise<boolean>>;
  // @ts-expect-error: startJobServer takes no options
  void Job.startJobServer('queue', { timeout: 5 });

  const job = new Job('queue', 'email', { to: 'a@example.com' });
  const _saved = job.save();
  true satisfies Equal<typeof _saved, Promise<string | null>>;
  const _savedBack = job.save({ cancelRepeats: true }, (_error, id) => id satisfies string | null | undefined);
  true satisfies Equal<typeof _savedBack, void>;
  const _refreshed = job.refresh();
  true satisfies Equal<typeof _refreshed, Promise<Job<{ to: string }> | false>>;
  const _awaited = job.result<{ sent: boolean }>();
  true satisfies Equal<typeof _awaited, Promise<{ sent: boolean }>>;
  job.done((_error, answer) => answer satisfies boolean | string | undefined);
  const _done = job.done({ sent: true });
  true satisfies Equal<typeof _done, Promise<boolean | string>>;
  job.fail(new Error('no'), { fatal: true }, (_error, answer) => answer satisfies boolean | undefined);
  job.progress(1, 2, (_error, answer) => answer satisfies boolean | null | undefined);
  // @ts-expect-error: progress's callback comes after both counts
  void job.progress(1, () => undefined);
  // @ts-expect-error: log's level is a log level
  void job.log('note', { level: 'loud' });
  // @ts-expect-error: pause takes no options
  void job.pause({ now: true });

  const queue = Job.processJobs<{ to: string }>('queue', 'email', async () => ({}));
  const _stopped = queue.shutdown({ level: 'soft' });
  true satisfies Equal<typeof _stopped, Promise<void>>;
  true satisfies Equal<ReturnType<typeof queue.onEmpty>, Promise<void>>;
  queue.shutdown((error) => error satisfies Error | null);
  queue.on('completed', (_completed, _value) => {
    true satisfies Equal<typeof _completed, Job<{ to: string }>>;
    true satisfies Equal<typeof _value, unknown>;
  });
  queue.once('active', (jobs) => jobs satisfies readonly Job<{ to: string }>[]).on('error', (error) => error.message);
  // @ts-expect-error: there is no event `done`
  queue.on('done', () => undefined);
  // @ts-expect-error: an `error` listener gets an Error, not a string
  queue.on('error', (_error: string) => undefined);
}

it('exports the typed API the checks above are about', () => {
  assert.equal(typeof typeChecks, 'function');
  assert.equal(typeof callbackStyleChecks, 'function');
  assert.equal(typeof Job.processJobs, 'function');
  assert.deepEqual(Object.keys(Job.jobPriorities), ['low', 'normal', 'medium', 'high', 'critical']);
  assert.equal(JobQueue.name, 'JobQueue');
});
