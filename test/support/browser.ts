/**
 * Debian's Chromium (`apt-get install chromium`, as .ci/run does), driven
 * by playwright-core; never a browser downloaded by Playwright. Pages
 * opened here record what would be a defect in any test: a script error, a
 * console error (a Content-Security-Policy violation is one) and a request
 * to another origin than the server's.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from './mcp-harness.js';

/** The browser binary: CHROMIUM_PATH, or Debian's. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where screenshots go (ignored by git). */
export const ARTIFACTS_DIR = join(ROOT, 'test-artifacts', 'ui');

/** Starts headless Chromium; a missing binary is an error that says how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: apt-get install chromium (as .ci/run does), or set CHROMIUM_PATH`,
    );
  // Playwright passes --no-sandbox unless asked for the sandbox: tests may run as root in a
  // container, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
}

/** A page and what went wrong on it. */
export interface WatchedPage {
  page: Page;
  /** Script errors, console errors and foreign requests, as text. */
  problems: string[];
}

/** Opens a page in `context` that records problems against `origin`. */
export async function watchedPage(context: BrowserContext, origin: string): Promise<WatchedPage> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Chromium reports every 4xx/5xx response this way; the tests check those answers themselves.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      problems.push(`console error: ${message.text()}`);
  });
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:')) problems.push(`request to ${url}`);
  });
  return { page, problems };
}

/** Saves a full-page screenshot as `test-artifacts/ui/<name>.png` and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
