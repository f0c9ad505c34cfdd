// The README's configuration table is the variables table of server/config.ts, so the two
// cannot drift: a variable added, renamed or given another default fails this test, which
// prints the table to paste.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { variables } from '../../server/config.ts';

function expectedTable(): string {
  const rows = Object.entries(variables).map(([name, v]) => `| \`${name}\` | ${v.default === '' ? '(none)' : `\`${v.default}\``} | ${v.help} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

describe('README configuration table', () => {
  it('lists every variable of server/config.ts with its default and meaning, in order', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = expectedTable();
    assert.ok(readme.includes(table), `README.md must contain this table under "Configuration":\n\n${table}\n`);
  });
});
