/**
 * A real browser for UI tests: Debian's chromium driven by playwright-core, headless, without
 * the background traffic a closed network refuses. `.ci/run` installs chromium when missing;
 * without it these tests fail with a message saying so.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { trackResource } from './leak-guard.ts';

/** Debian's chromium; `CHROMIUM_PATH` names another Chromium build (e.g. google-chrome on CI runners). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: install Debian's chromium (apt-get install -y chromium), or set CHROMIUM_PATH, to run the UI tests`);
  }
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  trackResource('a browser', () => !browser.isConnected());
  return browser;
}
