// Every "§x.y" the code, the tests and the docs cite names a section of docs/PROTOCOL.md, so
// a claim of conformance can always be checked against the text it cites; and every citation
// of the protocol names that file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const repository = fileURLToPath(new URL('../../', import.meta.url));
const searched = ['server', 'worker', 'shared', 'test', 'bench', 'examples', 'mongo-init', 'docs', 'README.md'];

function filesUnder(path: string): string[] {
  const full = join(repository, path);
  if (statSync(full).isFile()) return [full];
  return readdirSync(full).flatMap((name) => filesUnder(join(path, name)));
}

/** Section numbers as docs/PROTOCOL.md's headings give them: `## 7. Title`, `### 7.1 Title`. */
function protocolSections(): Set<string> {
  const text = readFileSync(join(repository, 'docs/PROTOCOL.md'), 'utf8');
  return new Set([...text.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)].map((match) => match[1] as string));
}

const sources = searched.flatMap(filesUnder).filter((file) => /\.(ts|mjs|js|md)$/.test(file));

describe('protocol references', () => {
  it('docs/PROTOCOL.md has numbered sections', () => {
    const sections = protocolSections();
    for (const expected of ['1.1', '2.3', '3.5', '5.12', '7.1', '8']) assert.ok(sections.has(expected), `§${expected} missing`);
  });

  it('every cited section exists', () => {
    const sections = protocolSections();
    const missing: string[] = [];
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/§\s?(\d+(?:\.\d+)?)/g)) {
        if (!sections.has(match[1] as string)) missing.push(`${relative(repository, file)}: §${match[1]}`);
      }
    }
    assert.deepEqual(missing, [], 'citations of sections docs/PROTOCOL.md does not have');
  });

  it('every citation of the protocol names docs/PROTOCOL.md', () => {
    const vague: string[] = [];
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/(\S*)PROTOCOL(?:\.md)? §/g)) {
        if (!match[0].includes('docs/PROTOCOL.md')) vague.push(`${relative(repository, file)}: ${match[0]}`);
      }
    }
    assert.deepEqual(vague, []);
  });
});
