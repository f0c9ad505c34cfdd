// Cumulus' promise API for Atmosphere's usage models, worker and requester in one process:
//   npx tsx examples/rpc.ts        (with `npm start` running)
import { connect, run, serve, submit } from '../worker/index.ts';

const connection = await connect(process.env.CUMULUS_URL ?? 'http://127.0.0.1:3000');

// The worker side: a handler per job type; its return value is the result, a throw fails the job.
const served = serve({
  first: () => ({ a: 1, b: 2, c: 3 }),
  second: (_ticket, data) => data, // {param2: 'initial message', first: {a: 1, b: 2, c: 3}}
  factorial: async (_ticket, data, ctx) => {
    const n = Number(data.n);
    // Jobs calling jobs: this job's slot is lent while it waits, so one worker is enough.
    return n <= 1 ? 1 : n * (await ctx.submit<number>({ type: 'factorial', data: { n: n - 1 } }));
  },
});

// The requester side.
console.log('5! =', await submit({ type: 'factorial', data: { n: 5 }, timeout: 30 }));
console.log('chain:', JSON.stringify(await submit([
  { type: 'first', name: 'job1', data: { param1: 'initial message' }, timeout: 5 },
  { type: 'second', data: { param2: 'initial message' } },
])));
console.log('callback in the middle:', JSON.stringify(await submit([{ type: 'first', callback: true }, { type: 'second' }])));
await submit([{ type: 'first' }, { type: 'second' }], undefined); // fire-and-forget: resolves once saved
console.log('3! =', await run('factorial', { n: 3 })); // the Redis JobQueue's jobs.run(type, params)

await served.close();
await connection.close();
