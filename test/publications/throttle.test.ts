// A live query's batch interval stretches with its subscribers (server/publications/job-query-observer.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { throttleFor } from '../../server/publications/job-query-observer.ts';

describe('throttleFor', () => {
  it('keeps the configured interval for up to ten subscribers', () => {
    assert.equal(throttleFor(50, 0), 50);
    assert.equal(throttleFor(50, 1), 50);
    assert.equal(throttleFor(50, 10), 50);
  });

  it('grows with the number of subscribers, up to twenty times', () => {
    assert.equal(throttleFor(50, 20), 100);
    assert.equal(throttleFor(50, 100), 500);
    assert.equal(throttleFor(50, 200), 1000);
    assert.equal(throttleFor(50, 5000), 1000);
  });

  it('stays zero when throttling is off', () => {
    assert.equal(throttleFor(0, 1000), 0);
  });
});
