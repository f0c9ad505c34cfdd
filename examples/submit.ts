// Saves a job with Cumulus' worker library and waits for its result: npx tsx examples/submit.ts [type] [text]
import { connect, Job } from '../worker/index.ts';

const [type = 'greet', text = 'hello'] = process.argv.slice(2);
const connection = await connect(process.env.CUMULUS_URL ?? 'http://127.0.0.1:3000');
const job = new Job('queue', type, { text }).retry({ retries: 2, wait: 1000 });
const id = await job.save();
console.log(`saved ${type} job ${id}, waiting for its result…`);
console.log(`result: ${JSON.stringify(await job.result())}`);
await connection.close();
