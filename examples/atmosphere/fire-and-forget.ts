// Atmosphere's fire-and-forget ("Submit a Job --> Job"): no callback, no state kept by the
// requester; the chain still runs to its end.
//   npx tsx examples/atmosphere/fire-and-forget.ts
import { rainCloud, rainMaker, type Ticket } from '../../worker/index.ts';

const options = { url: process.env.CUMULUS_URL ?? 'http://127.0.0.1:3000' };

const handleJobs = {
  remoteFunction: (ticket: Ticket, data: Record<string, unknown>) => {
    console.log('remoteFunction got', JSON.stringify(data));
    rainCloud.doneWith(ticket, undefined, { done: ticket.name });
    if (data.param2 !== undefined) setImmediate(() => void rainCloud.close());
  },
};

rainCloud.init('responder', options, handleJobs, (err) => {
  if (err) return console.log('Could not initialize.', err);
  rainMaker.init('requester', options, (err) => {
    if (err) return console.log('Could not initialize.', err);
    const job1 = {
      type: 'remoteFunction', //the job type/queue name
      name: 'special job', //name for this job
      data: { msg: 'useful' }, //arbitrary serializable object
      timeout: 30, //seconds
    };
    const job2 = {
      type: 'remoteFunction',
      data: { param2: 'abc' }, //merged with results from job1
    };
    rainMaker.submit([job1, job2], undefined); // <-- NOTE THIS!
    console.log('submitted; nothing to wait for');
  });
});
