// The typed configuration: defaults, and a clear ConfigError for every bad value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../server/config.ts';

describe('loadConfig', () => {
  it('has defaults that need nothing set', () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.databaseUrl, 'sqlite:./data/cumulus.db');
    assert.deepEqual(config.roots, ['queue']);
    assert.equal(config.tokens.size, 0);
    assert.equal(config.requeueGraceMs, 10_000);
    assert.equal(config.promoteIntervalMs, 15_000);
    assert.equal(config.heartbeatIntervalMs, 15_000);
    assert.deepEqual(config.publications, { throttleMs: 50, messagesPerSecond: 50_000 });
    assert.equal(config.shutdownGraceMs, 10_000);
    assert.equal(config.logLevel, 'info');
  });

  it('reads tokens as role:token pairs', () => {
    const config = loadConfig({ CUMULUS_TOKENS: 'admin:admin-secret, worker:worker-secret' });
    assert.deepEqual([...config.tokens.entries()], [
      ['admin-secret', { userId: 'admin', role: 'admin' }],
      ['worker-secret', { userId: 'worker', role: 'worker' }],
    ]);
  });

  const refusals: [string, Record<string, string>, RegExp][] = [
    ['a port that is not a number', { PORT: 'eighty' }, /PORT=eighty is not valid/],
    ['a port out of range', { PORT: '70000' }, /PORT=70000 is not valid/],
    ['an unknown role', { CUMULUS_TOKENS: 'boss:secret-secret' }, /must be <role>:<token>/],
    ['a short token', { CUMULUS_TOKENS: 'admin:short' }, /shorter than 8 characters/],
    ['a collection listed twice', { CUMULUS_COLLECTIONS: 'queue,queue' }, /listed twice/],
    ['a collection name with spaces', { CUMULUS_COLLECTIONS: 'my queue' }, /CUMULUS_COLLECTIONS/],
    ['an allowed origin that is not a URL', { CUMULUS_ALLOWED_ORIGINS: 'not a url' }, /CUMULUS_ALLOWED_ORIGINS/],
    ['an unknown log level', { LOG_LEVEL: 'verbose' }, /LOG_LEVEL=verbose is not valid: expected one of fatal, error, warn, info, debug, trace, silent/],
    ['a negative publication throttle', { CUMULUS_PUBLICATION_THROTTLE_MS: '-5' }, /CUMULUS_PUBLICATION_THROTTLE_MS=-5 is not valid/],
    ['listening beyond loopback without tokens', { HOST: '0.0.0.0' }, /Refusing to listen on 0\.0\.0\.0 without authentication/],
  ];
  for (const [what, env, message] of refusals) {
    it(`refuses ${what}`, () => {
      assert.throws(() => loadConfig(env), (error: unknown) => error instanceof ConfigError && message.test(error.message));
    });
  }

  it('listens beyond loopback once tokens are set', () => {
    assert.equal(loadConfig({ HOST: '0.0.0.0', CUMULUS_TOKENS: 'admin:admin-secret' }).host, '0.0.0.0');
  });
});
