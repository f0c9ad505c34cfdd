// Atmosphere's chain with the callback at the end (Submit a Job --> Job --> Callback): job2
// runs with its own data merged with job1's result under job1's type, then the callback.
//   npx tsx examples/atmosphere/chain.ts
import { rainCloud, rainMaker, type Ticket } from '../../worker/index.ts';

const options = { url: process.env.CUMULUS_URL ?? 'http://127.0.0.1:3000' };

const handleJobs = {
  first: (ticket: Ticket, data: Record<string, unknown>) => {
    console.log('first got', JSON.stringify(data));
    rainCloud.doneWith(ticket, undefined, { a: 1, b: 2, c: 3 });
  },
  second: (ticket: Ticket, data: Record<string, unknown>) => {
    console.log('second got', JSON.stringify(data));
    rainCloud.doneWith(ticket, undefined, { merged: data });
  },
};

rainCloud.init('responder', options, handleJobs, (err) => {
  if (err) return console.log('Could not initialize.', err);
  rainMaker.init('requester', options, (err) => {
    if (err) return console.log('Could not initialize.', err);
    const job1 = {
      type: 'first', //the job type/queue name
      name: 'job1', //name for this job
      data: { param1: 'initial message' },
      timeout: 5, //seconds
    };
    const job2 = {
      type: 'second',
      data: { param2: 'initial message' },
    };
    const jobChain = [job1, job2];
    rainMaker.submit(jobChain, (error, data) => {
      if (error) console.log('Error occurred executing function.', error);
      else console.log('RPC completed and returned:', JSON.stringify(data));
      void rainCloud.close();
    });
  });
});
