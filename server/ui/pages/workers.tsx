/** The workers connected to this server for one collection root, live from `<root>.workers`. */
import { TimeAgo } from '../components/time-ago.tsx';
import type { DdpConnection, Doc } from '../ddp/ddp-connection.ts';
import { useDocuments, useSubscription, useTicker } from '../hooks.ts';

const byName = (a: Doc, b: Doc) => String(a.name ?? a._id).localeCompare(String(b.name ?? b._id));

export function Workers({ connection, root }: { connection: DdpConnection; root: string }) {
  const subscription = useSubscription(connection, `${root}.workers`, []);
  const workers = useDocuments(connection, `${root}.workers`, byName);
  const now = useTicker(10_000);
  return (
    <section aria-labelledby="workers-title">
      <h1 id="workers-title">Workers of {root}</h1>
      {subscription.error !== undefined && <p role="alert">Cannot list workers: {subscription.error.reason}</p>}
      {subscription.ready && workers.length === 0 && (
        <p>No worker connected to this server asks for {root}'s jobs right now. Workers appear here from their first request for work.</p>
      )}
      {workers.length > 0 && (
        <div class="table-scroll">
          <table>
            <caption>Connections asking this server for work; the count of running jobs is refreshed every second</caption>
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">Types</th>
                <th scope="col">Running</th>
                <th scope="col">Machine load</th>
                <th scope="col">Asking since</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((worker) => {
                const running = Number(worker.running ?? 0);
                const concurrency = Number(worker.concurrency ?? 1);
                return (
                  <tr key={worker._id} data-worker={worker._id}>
                    <td>
                      {typeof worker.name === 'string' ? worker.name : <span class="absolute">unnamed</span>}
                      <br />
                      <code class="absolute">{worker._id}</code>
                    </td>
                    <td>{(worker.types as string[] | undefined)?.join(', ')}</td>
                    <td>
                      <meter min={0} max={concurrency} value={running} aria-label={`${running} of ${concurrency} slots in use`} /> {running} of {concurrency}
                    </td>
                    <td class="number">{Number(worker.cpuLoad ?? 0).toFixed(2)}</td>
                    <td>
                      <TimeAgo date={worker.since} now={now} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
