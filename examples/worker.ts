// Processes jobs with Cumulus' own worker library: npx tsx examples/worker.ts [type] [count]
// An async worker's return value completes the job; a throw fails it (and it retries if it can).
import { connect, Job } from '../worker/index.ts';

const [type = 'greet', count] = process.argv.slice(2);
const connection = await connect(process.env.CUMULUS_URL ?? 'http://127.0.0.1:3000');
let left = count === undefined ? Infinity : Number(count);

const queue = Job.processJobs('queue', type, { concurrency: 4 }, async (job) => {
  console.log(`processing ${job.type} ${job.doc._id}: ${JSON.stringify(job.data)}`);
  left -= 1;
  if (left <= 0) setImmediate(() => void queue.shutdown({ level: 'soft' }).then(() => connection.close()));
  return { greeting: `${String(job.data.text)}, world` };
});
