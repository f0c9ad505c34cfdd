// The Weather Station in a real browser (Debian chromium, playwright-core) against a real
// server: counts and lists follow jobs submitted over DDP without a reload, a job page shows
// its log and progress as a worker reports them, the actions reach the store, and a worker's
// token is refused them. Screenshots of the overview and a job page are saved and printed.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import Job from 'meteor-job';
import type { Browser, Locator, Page } from 'playwright-core';
import type { JobDoc } from '../../shared/job-doc.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { RawDdpClient, type DdpMessage } from '../helpers/raw-ddp-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const screenshots = mkdtempSync(join(tmpdir(), 'cumulus-ui-'));

function resultOf(message: DdpMessage): unknown {
  assert.equal(message.error, undefined, `unexpected error ${JSON.stringify(message.error)}`);
  return message.result;
}

describe('Weather Station', () => {
  let browser: Browser;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser.close();
  });

  const open = async (t: TestContext, server: TestServer, path = '/') => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    t.after(async () => {
      await page.close();
      assert.deepEqual(errors, [], 'no error in the page');
    });
    await page.goto(`${server.url}${path}`);
    return page;
  };
  const total = (page: Page, status: string) => page.getByTestId(`total-${status}`);
  /** Waits until the element's whole text is `text`. */
  const shows = (locator: Locator, text: string) => locator.filter({ hasText: new RegExp(`^${text}$`) }).waitFor();
  /** Waits until the job list has exactly `count` rows. */
  const rows = (page: Page, count: number) =>
    waitFor(async () => (await page.locator('tr[data-job]').count()) === count, { timeoutMs: 10_000, description: `${count} rows` });

  it('follows jobs live: counts, charts, the list, a job page with its progress and log; actions reach the store', async (t) => {
    const server = await startTestServer({ CUMULUS_ANALYTICS_FLUSH_MS: '200' });
    t.after(() => server.stop());
    const client = await RawDdpClient.connect(server.url, { timeoutMs: 10_000, autoPong: true });
    t.after(() => client.close());
    const page = await open(t, server);

    await page.getByRole('heading', { name: 'No jobs in queue yet' }).waitFor();
    const ids: string[] = [];
    for (let n = 0; n < 30; n += 1) {
      ids.push(resultOf(await client.call('queue_jobSave', [new Job('queue', n % 2 === 0 ? 'email' : 'resize', { n, to: `user${n}@example.com` }).doc, {}])) as string);
    }
    await shows(total(page, 'ready'), '30');
    // A worker takes some: the counts move without a reload.
    const claimed = resultOf(await client.call('queue_getWork', [['email'], { maxJobs: 5 }])) as JobDoc[];
    for (const job of claimed.slice(0, 2)) resultOf(await client.call('queue_jobDone', [job._id, job.runId, { sent: true }, {}]));
    resultOf(await client.call('queue_jobFail', [claimed[2]?._id, claimed[2]?.runId, { message: 'mailbox full' }, { fatal: true }]));
    await shows(total(page, 'running'), '2');
    assert.equal(await total(page, 'completed').textContent(), '2');
    assert.equal(await total(page, 'failed').textContent(), '1');
    await page.getByRole('heading', { name: 'Needs attention' }).waitFor();
    // The server's analytics of the last hour follow: two runs completed, one failed for good.
    await shows(page.getByTestId('hour-completed'), '2');
    await shows(page.getByTestId('hour-failed'), '1');
    assert.equal(await page.locator('figure.chart canvas').count(), 4, 'throughput, run time, failure rate and backlog charts');
    const overview = join(screenshots, 'overview.png');
    await page.screenshot({ path: overview, fullPage: true });
    t.diagnostic(`overview screenshot: ${overview}`);

    // The list, filtered by a status from the URL and then by type from its control.
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.getByLabel('Status').selectOption('running');
    await rows(page, 2);
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Type').selectOption('resize');
    await rows(page, 15);

    // Every job of the filter at once: pause without asking, cancel after confirming the count.
    const bulk = page.getByRole('form', { name: 'Action on every job of this filter' });
    await bulk.getByLabel('Every job of this filter:').selectOption('pause');
    await bulk.getByRole('button', { name: /Apply to type resize/ }).click();
    await bulk.getByRole('status').filter({ hasText: 'pause: 15 jobs changed.' }).waitFor();
    const confirmations: string[] = [];
    page.once('dialog', (dialog) => {
      confirmations.push(dialog.message());
      void dialog.accept();
    });
    await bulk.getByLabel('Every job of this filter:').selectOption('cancel');
    await bulk.getByRole('button', { name: /Apply to type resize/ }).click();
    await bulk.getByRole('status').filter({ hasText: 'cancel: 15 jobs changed.' }).waitFor();
    assert.deepEqual(confirmations, ['cancel 15 jobs (type resize, every status)? This cannot be undone.']);
    const resized = resultOf(await client.call('queue_getJob', [ids.filter((_, n) => n % 2 === 1)])) as JobDoc[];
    assert.ok(resized.length === 15 && resized.every((job) => job.status === 'cancelled'));

    // The workers page: the connection that claimed, with what it reported.
    const named = resultOf(
      await client.call('queue_getWork', [['resize', 'email'], { maxJobs: 1, worker: { name: 'resizer-1', concurrency: 4, cpuLoad: 0.25 } }]),
    ) as JobDoc[];
    assert.equal(named.length, 1);
    await page.getByRole('link', { name: 'Workers', exact: true }).click();
    const row = page.locator('tr[data-worker]', { hasText: 'resizer-1' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /resize, email.*0\.25/);
    await row.filter({ hasText: /[1-9]\d* of 4/ }).waitFor();

    // A running job's page: its progress and log grow as the worker reports.
    const running = claimed[3] as JobDoc;
    await page.goto(`${server.url}/#/job/${running._id}`);
    await page.getByRole('heading', { name: /email/ }).waitFor();
    await page.getByText('Job Running').waitFor();
    resultOf(await client.call('queue_jobLog', [running._id, running.runId, 'halfway there', { level: 'success' }]));
    await page.getByText('halfway there').waitFor();
    resultOf(await client.call('queue_jobProgress', [running._id, running.runId, 5, 10, {}]));
    await page.locator('article progress[value="50"]').waitFor();
    const jobShot = join(screenshots, 'job.png');
    await page.screenshot({ path: jobShot, fullPage: true });
    t.diagnostic(`job page screenshot: ${jobShot}`);

    // Cancel from the page: the store has it cancelled, and the page says so.
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('status').filter({ hasText: 'Cancel: done.' }).waitFor();
    const [stored] = resultOf(await client.call('queue_getJob', [[running._id]])) as JobDoc[];
    assert.equal(stored?.status, 'cancelled');
    await page.locator('article .status-cancelled').waitFor();
    // Restart it, then pause it.
    await page.getByRole('button', { name: 'Restart' }).click();
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('article .status-paused').waitFor();
    const [paused] = resultOf(await client.call('queue_getJob', [[running._id]])) as JobDoc[];
    assert.equal(paused?.status, 'paused');
  });

  it('pages behind the newest jobs to the oldest', async (t) => {
    const server = await startTestServer();
    t.after(() => server.stop());
    const client = await RawDdpClient.connect(server.url, { timeoutMs: 10_000, autoPong: true });
    t.after(() => client.close());
    const docs = Array.from({ length: 130 }, (_, n) => new Job('queue', 'paged', { n }).doc);
    resultOf(await client.call('queue_jobSaveMany', [docs]));
    const page = await open(t, server, '/#/jobs?type=paged');
    await rows(page, 100);
    await page.getByRole('button', { name: 'Show 50 more jobs' }).click();
    await page.getByText('No more jobs.').waitFor();
    await rows(page, 130);
    const shown = await page.locator('tr[data-job]').evaluateAll((elements) => elements.map((element) => element.getAttribute('data-job')));
    assert.equal(new Set(shown).size, 130, 'every job once');
  });

  it('searches jobs by a word in their data, sorts by priority, and acts on a selection and on the matches', async (t) => {
    const server = await startTestServer();
    t.after(() => server.stop());
    const client = await RawDdpClient.connect(server.url, { timeoutMs: 10_000, autoPong: true });
    t.after(() => client.close());
    const docs = Array.from({ length: 40 }, (_, n) => new Job('queue', 'invoice', { customer: n < 3 ? 'Zanzibar Spices' : `customer ${n}` }).doc);
    const ids = resultOf(await client.call('queue_jobSaveMany', [docs])) as string[];
    const urgent = resultOf(await client.call('queue_jobSave', [new Job('queue', 'invoice', { customer: 'Acme' }).priority('critical').doc, {}])) as string;
    const page = await open(t, server, '/#/jobs');
    await rows(page, 41);

    const search = page.getByRole('searchbox', { name: 'Search' });
    await search.fill('zanzib');
    await rows(page, 3);
    assert.match(page.url(), /q=zanzib/, 'the search is in the URL');
    const found = await page.locator('tr[data-job]').evaluateAll((elements) => elements.map((element) => element.getAttribute('data-job')));
    assert.deepEqual([...found].sort(), ids.slice(0, 3).sort());

    // Pause two of the three through the selection.
    await page.getByRole('checkbox', { name: `Select job ${ids[0]}` }).check();
    await page.getByRole('checkbox', { name: `Select job ${ids[1]}` }).check();
    const chosen = page.getByRole('form', { name: 'Action on the selected jobs' });
    await chosen.getByLabel('The 2 jobs selected:').selectOption('pause');
    await chosen.getByRole('button', { name: 'Apply to the selection' }).click();
    await chosen.getByRole('status').filter({ hasText: 'pause: done' }).waitFor();
    const afterPause = resultOf(await client.call('queue_getJob', [ids.slice(0, 3)])) as JobDoc[];
    assert.deepEqual(Object.fromEntries(afterPause.map((job) => [job._id, job.status])), { [ids[0] as string]: 'paused', [ids[1] as string]: 'paused', [ids[2] as string]: 'ready' });
    // The search's list is read again: the paused jobs show as paused without a reload.
    await waitFor(async () => (await page.locator('tr[data-job] .status-paused').count()) === 2, { timeoutMs: 10_000, description: 'two paused rows' });

    // Cancel everything the search matches, confirmed with its count.
    page.once('dialog', (dialog) => {
      assert.equal(dialog.message(), 'cancel 3 jobs (every type, every status, matching “zanzib”)? This cannot be undone.');
      void dialog.accept();
    });
    const bulk = page.getByRole('form', { name: 'Action on every job of this filter' });
    await bulk.getByLabel('Every job of this filter:').selectOption('cancel');
    await bulk.getByRole('button', { name: /Apply to every type/ }).click();
    await bulk.getByRole('status').filter({ hasText: 'cancel: 3 jobs changed.' }).waitFor();
    const cancelled = resultOf(await client.call('queue_getJob', [ids])) as JobDoc[];
    assert.equal(cancelled.filter((job) => job.status === 'cancelled').length, 3);

    // Sorted by priority, the critical job comes first.
    await search.fill('');
    await page.getByLabel('Sort by').selectOption('priority');
    await page.locator('tr[data-job]').first().and(page.locator(`tr[data-job="${urgent}"]`)).waitFor();
  });

  it("asks for a token, lets a worker's token read, and refuses it the actions", async (t) => {
    const server = await startTestServer({ CUMULUS_TOKENS: 'admin:admin-secret,worker:worker-secret' });
    t.after(() => server.stop());
    const admin = await RawDdpClient.connect(server.url, { timeoutMs: 10_000, autoPong: true });
    t.after(() => admin.close());
    resultOf(await admin.call('login', [{ resume: 'admin-secret' }]));
    const id = resultOf(await admin.call('queue_jobSave', [new Job('queue', 'report', { month: 11 }).doc, {}])) as string;

    const page = await open(t, server, `/#/job/${id}`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByLabel('Token').fill('wrong');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Refused' }).waitFor();
    await page.getByLabel('Token').fill('worker-secret');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: /report/ }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('status').filter({ hasText: 'Cancel refused: Method not authorized' }).waitFor();
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    const bulk = page.getByRole('form', { name: 'Action on every job of this filter' });
    await bulk.getByRole('button', { name: /Apply to every type/ }).click();
    await bulk.getByRole('status').filter({ hasText: 'pause refused: Method not authorized' }).waitFor();
    const [stored] = resultOf(await admin.call('queue_getJob', [[id]])) as JobDoc[];
    assert.equal(stored?.status, 'ready', 'the worker could neither cancel nor pause it');
  });
});
