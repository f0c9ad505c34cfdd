// Saves one job with the original meteor-job client: node examples/save-job.mjs [type] [text]
import DDP from 'ddp';
import Job from 'meteor-job';

const url = new URL(process.env.CUMULUS_URL ?? 'http://127.0.0.1:3000');
const ddp = new DDP({ host: url.hostname, port: Number(url.port || 80), autoReconnect: false });
const [type = 'greet', text = 'hello'] = process.argv.slice(2);

ddp.connect((error) => {
  if (error) throw error;
  Job.setDDP(ddp);
  new Job('queue', type, { text }).retry({ retries: 2, wait: 1000 }).save((err, id) => {
    if (err) throw new Error(err.reason ?? String(err));
    console.log(`saved ${type} job ${id}`);
    ddp.close();
  });
});
