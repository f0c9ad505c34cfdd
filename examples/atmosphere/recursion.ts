// Atmosphere's "Jobs Calling Jobs": rain clouds are also rain makers. `factorial` submits
// `factorial` for n - 1 from inside its own work function, on the same exclusive cloud (one
// job at a time): the waiting job lends its slot, so the child can run.
//   npx tsx examples/atmosphere/recursion.ts [n]
import { rainCloud, rainMaker, type Ticket } from '../../worker/index.ts';

const options = { url: process.env.CUMULUS_URL ?? 'http://127.0.0.1:3000' };
const n = Number(process.argv[2] ?? 4);

const handleJobs = {
  factorial: (ticket: Ticket, data: Record<string, unknown>) => {
    const k = Number(data.n);
    console.log(`factorial(${k}) running as job ${ticket.id}`);
    if (k <= 1) return rainCloud.doneWith(ticket, undefined, 1);
    rainMaker.submit({ type: 'factorial', data: { n: k - 1 } }, (error, below) => {
      if (error) rainCloud.doneWith(ticket, error);
      else rainCloud.doneWith(ticket, undefined, k * Number(below));
    });
  },
};

rainCloud.init('calculator', options, handleJobs, (err) => {
  if (err) return console.log('Could not initialize.', err);
  rainMaker.submit({ type: 'factorial', name: `factorial of ${n}`, data: { n }, timeout: 30 }, (error, data) => {
    if (error) console.log('Error occurred executing function.', error);
    else console.log(`${n}! =`, data);
    void rainCloud.close();
  });
});
