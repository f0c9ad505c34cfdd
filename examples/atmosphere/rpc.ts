// Atmosphere's "Hello World!" on Cumulus — a remote procedure call: the responder (rain cloud)
// does the work, the requester (rain maker) submits it and gets the result. Atmosphere's own
// code, ported to TypeScript; only the import and the connect options differ.
//   npx tsx examples/atmosphere/rpc.ts        (with `npm start` running)
import { rainCloud, rainMaker, type Ticket } from '../../worker/index.ts';

const options = { url: process.env.CUMULUS_URL ?? 'http://127.0.0.1:3000' };

//[Remote] Local Function to Execute (called remotely)
// -- ticket = {type, name, id}
// -- data = copy of data object passed to submit
const localFunction = (ticket: Ticket, data: Record<string, unknown>) => {
  console.log(`Working on job with data: ${String(data.msg1)} ${String(data.msg2)}`);
  const error = undefined;
  const results = 'This string was generated inside the work function';
  rainCloud.doneWith(ticket, error, results);
};

//Which possible jobs should this server register to handle
const handleJobs = {
  remoteFunction: localFunction, //object key must match job.type
};

//Connect to Atmosphere (the rain cloud is also a rain maker)
rainCloud.init('responder', options, handleJobs, (err) => {
  if (err) {
    console.log('Could not initialize.', err);
    return;
  }
  //[Local] Connect and submit job (make the remote procedure call)
  rainMaker.init('requester', options, (err) => {
    if (err) {
      console.log('Could not initialize.', err);
      return;
    }
    const job = {
      type: 'remoteFunction', //the job type (queue name)
      name: 'my first atmosphere job', //name for this work request (passed to remote router)
      data: { msg1: 'Hello', msg2: 'World!' }, //arbitrary serializable object to pass to remote
      timeout: 30, //seconds (if timeout elapses, error response is returned to callback)
    };
    rainMaker.submit(job, (error, data) => {
      if (error) console.log('Error occurred executing function.', error);
      else console.log('RPC completed and returned:', data);
      void rainCloud.close();
    });
  });
});
