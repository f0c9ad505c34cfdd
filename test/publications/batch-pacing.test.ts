// When a live query sends its next batch (server/publications/batch-pacing.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchPacing, maxBatchIntervalMs } from '../../server/publications/batch-pacing.ts';

function pacing(throttleMs: number, messagesPerSecond: number) {
  const clock = { now: 1_000_000 };
  return { clock, pacing: new BatchPacing({ throttleMs, messagesPerSecond }, () => clock.now) };
}

describe('BatchPacing', () => {
  it('waits the throttle while batches are cheap', () => {
    const { pacing: p } = pacing(50, 1000);
    assert.equal(p.nextDelay(), 50, 'before any batch');
    p.sent(10);
    assert.equal(p.nextDelay(), 50, '10 messages at 1000/s need 10 ms, less than the throttle');
  });

  it('spaces batches out after a costly one, counting the time already passed', () => {
    const { clock, pacing: p } = pacing(50, 1000);
    p.sent(2000);
    assert.equal(p.nextDelay(), 2000, '2000 messages at 1000/s: the next batch 2 s after');
    clock.now += 1500;
    assert.equal(p.nextDelay(), 500);
    clock.now += 1000;
    assert.equal(p.nextDelay(), 50, 'long enough ago: only the throttle');
  });

  it('never waits longer than the cap', () => {
    const { pacing: p } = pacing(50, 1000);
    p.sent(1_000_000);
    assert.equal(p.nextDelay(), maxBatchIntervalMs);
  });

  it('keeps a throttle longer than the cap, and none when throttling is off', () => {
    const long = pacing(10_000, 1000).pacing;
    assert.equal(long.nextDelay(), 10_000);
    const off = pacing(0, 1000).pacing;
    off.sent(1_000_000);
    assert.equal(off.nextDelay(), 0);
  });
});
