/**
 * What the job search matches (docs/PROTOCOL.md §7.17): the words of a job's id, type and name
 * and of the values in its data, result and failures. Both stores index exactly these words
 * (SQLite in an FTS5 table, MongoDB in a multikey array), so a search finds the same jobs on
 * either; a query's words match as prefixes, all of them required.
 */
import type { StoredJob } from './job-store.ts';

/** Longest word kept; the rest of a longer one is not searchable (a search for its start still finds it). */
const maxWordLength = 64;
/** Most words kept per job, so a huge payload costs the index a bounded amount. */
const maxWordsPerJob = 500;
/** How deep into nested data values are read. */
const maxDepth = 8;

/** The fields whose change changes a job's words. */
const searchedFields = ['type', 'name', 'data', 'result', 'failures'] as const;

/** Lower-case words without diacritics; a word is a run of letters and digits. */
function wordsOf(text: string): string[] {
  const words: string[] = [];
  for (const word of text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (word !== '') words.push(word.slice(0, maxWordLength));
  }
  return words;
}

/** A job's distinct words, in the order they first appear, at most `maxWordsPerJob`. */
export function searchWords(job: Pick<StoredJob, '_id' | 'type' | 'name' | 'data' | 'result' | 'failures'>): string[] {
  const words = new Set<string>();
  const add = (text: string) => {
    for (const word of wordsOf(text)) {
      if (words.size >= maxWordsPerJob) return;
      words.add(word);
    }
  };
  const visit = (value: unknown, depth: number): void => {
    if (words.size >= maxWordsPerJob) return;
    if (typeof value === 'string') add(value);
    else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') add(String(value));
    else if (value instanceof Date || value instanceof Uint8Array || value === null || value === undefined) return;
    else if (typeof value === 'object' && depth < maxDepth) {
      for (const item of Array.isArray(value) ? value : Object.values(value)) visit(item, depth + 1);
    }
  };
  add(job._id);
  add(job.type);
  if (job.name !== undefined) add(job.name);
  visit(job.data, 0);
  visit(job.result, 0);
  visit(job.failures, 0);
  return [...words];
}

/** Whether changes to these fields may change a job's words. */
export function changesWords(changed: Iterable<string>): boolean {
  for (const key of changed) if ((searchedFields as readonly string[]).includes(key)) return true;
  return false;
}

/** The words of a search text, each matched as a prefix; empty when there is nothing to search for. */
export function queryWords(text: string): string[] {
  return [...new Set(wordsOf(text))].slice(0, 16);
}
