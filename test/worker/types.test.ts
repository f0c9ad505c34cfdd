// Compile-time checks of the worker library's types: `npm run typecheck` fails if any line
// marked @ts-expect-error compiles (or any unmarked one does not). The checks are in a function
// that never runs; at run time the test only looks at the real exports.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Job, JobQueue, type JobQueueOptions, type WorkerCallback } from '../../worker/index.ts';

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
  new JobQueue('queue', 'email', {}, async () => undefined).shutdown({ level: 'graceful' });
  // @ts-expect-error: cancel has no `force` option
  void new Job('queue', 'email', {}).cancel({ force: true });
  // @ts-expect-error: done's callback gets a boolean or a repeat id, not a Job
  new Job('queue', 'email', {}).done({}, {}, (_error: Error | null, _result?: Job) => undefined);

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
}

it('exports the typed API the checks above are about', () => {
  assert.equal(typeof typeChecks, 'function');
  assert.equal(typeof Job.processJobs, 'function');
  assert.deepEqual(Object.keys(Job.jobPriorities), ['low', 'normal', 'medium', 'high', 'critical']);
  assert.equal(JobQueue.name, 'JobQueue');
});
