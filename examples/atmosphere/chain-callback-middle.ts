// Atmosphere's "Submit a Job --> Callback --> Job": callback: true on job1 makes the callback
// come when job1 completes; job2 still runs (its result is not reported to the requester).
//   npx tsx examples/atmosphere/chain-callback-middle.ts
import { rainCloud, rainMaker, type Ticket } from '../../worker/index.ts';

const options = { url: process.env.CUMULUS_URL ?? 'http://127.0.0.1:3000' };

const handleJobs = {
  remoteFunction: (ticket: Ticket, data: Record<string, unknown>) => {
    console.log('remoteFunction got', JSON.stringify(data));
    if (data.param2 !== undefined) {
      // job2, the end of the chain: the requester has its answer already.
      setImmediate(() => void rainCloud.close());
    }
    rainCloud.doneWith(ticket, undefined, { msg: data.msg ?? 'second' });
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
      callback: true,
    };
    const job2 = {
      type: 'remoteFunction',
      data: { param2: 'abc' }, //merged with results from job1
    };
    rainMaker.submit([job1, job2], (error, data) => {
      if (error) return console.log('Error occurred executing function.', error);
      console.log('RPC completed and returned:', JSON.stringify(data));
    });
  });
});
