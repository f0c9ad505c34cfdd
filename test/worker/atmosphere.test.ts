// The Atmosphere facade against a real server: both rainCloud.init shapes, doneWith with an
// error (the requester gets an RpcJobError carrying it), work functions that return promises,
// and a submit before init (ENOCONNECT, as Atmosphere answers).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { rainCloud, rainMaker, RpcJobError, type Ticket } from '../../worker/index.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';

function init(call: (cb: (error?: Error) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => call((error) => (error === undefined ? resolve() : reject(error))));
}

function submitted(work: Parameters<typeof rainMaker.submit>[0]): Promise<[Error | null, unknown]> {
  return new Promise((resolve) => rainMaker.submit(work, (error, data) => resolve([error, data])));
}

describe('Atmosphere facade', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  afterEach(() => rainCloud.close());
  after(() => server.stop());

  it('answers a submit before init with ENOCONNECT', async () => {
    const [error] = await submitted({ type: 'anything' });
    assert.match(String(error?.message), /^ENOCONNECT/);
  });

  it('takes init(role, rainBuckets, cb) and reports doneWith errors to the requester', async () => {
    process.env.CUMULUS_URL = server.url;
    try {
      await init((cb) => rainCloud.init('responder', {
        refuses: (ticket: Ticket) => rainCloud.doneWith(ticket, { code: 'ENOPE', why: 'not today' }),
        promises: async (_ticket: Ticket, data: Record<string, unknown>) => ({ doubled: Number(data.n) * 2 }),
      }, cb));
    } finally {
      delete process.env.CUMULUS_URL;
    }
    const [error] = await submitted({ type: 'refuses', name: 'x' });
    assert.ok(error instanceof RpcJobError);
    assert.equal(error.type, 'refuses');
    assert.deepEqual({ ...error.failure, runId: undefined }, { code: 'ENOPE', why: 'not today', runId: undefined });
    assert.deepEqual(await submitted({ type: 'promises', data: { n: 21 } }), [null, { doubled: 42 }]);
  });

  it('takes init(role, options, rainBuckets, cb) and a rain maker of its own', async () => {
    const options = { url: server.url };
    await init((cb) => rainCloud.init('responder', options, { hello: (ticket: Ticket) => rainCloud.doneWith(ticket, null, `hi ${ticket.name}`) }, cb));
    await init((cb) => rainMaker.init('requester', options, cb));
    assert.deepEqual(await submitted({ type: 'hello', name: 'there' }), [null, 'hi there']);
  });
});
