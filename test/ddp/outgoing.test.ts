// Backpressure of one connection (server/ddp/outgoing.ts): straight through while the socket
// drains; past the limit, data messages are coalesced per document into the change from what
// the client had to the latest state, other messages keep their order; a client that stays
// slow past the timeout is closed.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { Outgoing } from '../../server/ddp/outgoing.ts';

class SlowSocket {
  bufferedAmount = 0;
  readonly sent: unknown[] = [];
  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
}

function setUp(timeoutMs = 60_000) {
  const socket = new SlowSocket();
  const slow: string[] = [];
  const outgoing = new Outgoing(socket, { maxBufferedBytes: 100, slowClientTimeoutMs: timeoutMs }, (m) => JSON.stringify(m), (reason) => slow.push(reason));
  return { socket, outgoing, slow };
}

const doc = (id: string) => ({ collection: 'queue.jobs', id });

describe('Outgoing', () => {
  it('sends straight through while the socket drains', () => {
    const { socket, outgoing } = setUp();
    outgoing.data({ msg: 'added', ...doc('a'), fields: { n: 1 } });
    outgoing.text(JSON.stringify({ msg: 'ready', subs: ['s'] }));
    assert.deepEqual(socket.sent, [{ msg: 'added', ...doc('a'), fields: { n: 1 } }, { msg: 'ready', subs: ['s'] }]);
    assert.equal(outgoing.holding, false);
  });

  it('holds past the limit and coalesces each document into one message of its latest state, keeping other messages in order', () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'] });
    try {
      const { socket, outgoing } = setUp();
      socket.bufferedAmount = 1000;
      outgoing.data({ msg: 'changed', ...doc('a'), fields: { n: 2, s: 'x' } });
      outgoing.data({ msg: 'changed', ...doc('a'), fields: { n: 3 }, cleared: ['s'] });
      outgoing.data({ msg: 'added', ...doc('b'), fields: { n: 1 } });
      outgoing.data({ msg: 'changed', ...doc('b'), fields: { n: 5 }, cleared: ['gone'] });
      outgoing.data({ msg: 'added', ...doc('c'), fields: { n: 1 } });
      outgoing.data({ msg: 'removed', ...doc('c') });
      outgoing.data({ msg: 'changed', ...doc('d'), fields: { n: 1 } });
      outgoing.data({ msg: 'removed', ...doc('d') });
      outgoing.data({ msg: 'removed', ...doc('e') });
      outgoing.data({ msg: 'added', ...doc('e'), fields: { fresh: true } });
      outgoing.text(JSON.stringify({ msg: 'updated', methods: ['1'] }));
      outgoing.data({ msg: 'changed', ...doc('a'), fields: { n: 4 } });
      assert.deepEqual(socket.sent, [], 'nothing goes out while the socket is over the limit');
      assert.equal(outgoing.holding, true);
      socket.bufferedAmount = 0;
      mock.timers.tick(20);
      assert.deepEqual(socket.sent, [
        // The change after `updated` joined the one held before it: the client sees it sooner.
        { msg: 'changed', ...doc('a'), fields: { n: 4 }, cleared: ['s'] },
        { msg: 'added', ...doc('b'), fields: { n: 5 } },
        { msg: 'removed', ...doc('d') },
        { msg: 'removed', ...doc('e') },
        { msg: 'added', ...doc('e'), fields: { fresh: true } },
        { msg: 'updated', methods: ['1'] },
      ]);
      assert.equal(outgoing.holding, false);
    } finally {
      mock.timers.reset();
    }
  });

  it('holds one message per document however many pongs and changes come between, and nothing for a document added and removed', () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'] });
    try {
      const { socket, outgoing } = setUp();
      socket.bufferedAmount = 1000;
      for (let round = 0; round < 50; round += 1) {
        outgoing.data({ msg: 'changed', ...doc('kept'), fields: { round } });
        outgoing.data({ msg: 'added', ...doc(`passing-${round}`), fields: { round } });
        outgoing.text(JSON.stringify({ msg: 'pong' }));
        outgoing.data({ msg: 'removed', ...doc(`passing-${round}`) });
      }
      outgoing.data({ msg: 'added', ...doc('new'), fields: { n: 1 } });
      socket.bufferedAmount = 0;
      mock.timers.tick(20);
      const data = socket.sent.filter((m) => (m as { msg: string }).msg !== 'pong');
      assert.deepEqual(data, [
        { msg: 'changed', ...doc('kept'), fields: { round: 49 } },
        { msg: 'added', ...doc('new'), fields: { n: 1 } },
      ]);
      assert.equal(socket.sent.length - data.length, 50, 'every pong goes out');
    } finally {
      mock.timers.reset();
    }
  });

  it('closes a client that stays over the limit past the timeout, and holds nothing after', () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'] });
    try {
      const { socket, outgoing, slow } = setUp(1000);
      socket.bufferedAmount = 5000;
      outgoing.data({ msg: 'added', ...doc('a') });
      mock.timers.tick(980);
      assert.deepEqual(slow, []);
      mock.timers.tick(40);
      assert.equal(slow.length, 1);
      assert.match(slow[0] ?? '', /Too slow: 5000 bytes unread for 1 s/);
      outgoing.data({ msg: 'added', ...doc('b') });
      assert.equal(outgoing.holding, false);
      assert.deepEqual(socket.sent, []);
    } finally {
      mock.timers.reset();
    }
  });
});
