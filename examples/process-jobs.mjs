// Processes jobs with the original meteor-job client: node examples/process-jobs.mjs [type] [count]
// Exits after `count` jobs (default: runs until Ctrl-C).
import DDP from 'ddp';
import Job from 'meteor-job';

const url = new URL(process.env.CUMULUS_URL ?? 'http://127.0.0.1:3000');
const ddp = new DDP({ host: url.hostname, port: Number(url.port || 80), autoReconnect: false });
const [type = 'greet', count] = process.argv.slice(2);
let left = count === undefined ? Infinity : Number(count);

ddp.connect((error) => {
  if (error) throw error;
  Job.setDDP(ddp);
  const queue = Job.processJobs('queue', type, { pollInterval: 500 }, (job, cb) => {
    console.log(`processing ${job.type} ${job.doc._id}: ${JSON.stringify(job.data)}`);
    job.done({ processedAt: new Date().toISOString() }, () => {
      left -= 1;
      if (left <= 0) {
        // Pause first: meteor-job asks for more work whenever a task ends, even while shutting down.
        queue.pause();
        queue.shutdown({ level: 'soft', quiet: true }, () => ddp.close());
      }
      cb();
    });
  });
});
