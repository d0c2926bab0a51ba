/**
 * The operator console (/ui) in Debian's Chromium, against the real server
 * on the shipped demo: its registry, its workflows and its stdio MCP
 * servers, plus one MCP that is down (to open a breaker) and one workflow
 * with two undoable steps (to see the rollback order). The console is built
 * from its sources first, so these tests see the code as it is. Every page
 * is saved as a screenshot in test-artifacts/ui/; with
 * UPDATE_CONSOLE_SCREENSHOT=1, the README's docs/console.png is replaced.
 * Waits are for DOM states with deadlines, never for time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot, type WatchedPage, watchedPage } from './support/browser.js';
import { ROOT } from './support/mcp-harness.js';
import { type ServerHarness, startServer } from './support/server-harness.js';

/** Deadline of each wait for the page, ms. */
const WAIT_MS = 10_000;
const API_KEY = 'console-test-key-0123456789';

/** `two_bookings`: two bookings, then an SMS that fails, so both are cancelled, the second first. */
const TWO_BOOKINGS = `name: two_bookings
version: "1"
steps:
  - name: first
    mcp: main-platform
    action: book_session
    params: { coach_id: coach-123, user_id: $input.user_id, slot: monday }
    compensation:
      action: cancel_booking
      params: { booking_id: $steps.first.result.id }
  - name: second
    mcp: main-platform
    action: book_session
    params: { coach_id: coach-456, user_id: $input.user_id, slot: tuesday }
    compensation:
      action: cancel_booking
      params: { booking_id: $steps.second.result.id }
  - name: confirm
    mcp: textbee
    action: send
    params: { to: "+15550000000", message: booked }
`;

const PING_OFFLINE = `name: ping_offline
version: "1"
steps:
  - name: ping
    mcp: offline
    action: ping
`;

/** A port nothing listens on: one that was free a moment ago. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The shipped demo, plus `offline` (down; its breaker opens at the first failure) and two test workflows. */
async function demo(env: Record<string, string> = {}, apiKey?: string): Promise<ServerHarness> {
  const registry = JSON.parse(readFileSync(join(ROOT, 'mcp-registry.json'), 'utf8'));
  registry.mcps.offline = {
    name: 'Down on purpose',
    endpoints: { primary: { protocol: 'http', url: `http://127.0.0.1:${await closedPort()}/mcp` } },
    tools: ['ping'],
    circuitBreaker: { failureThreshold: 1, resetTimeout: 600_000 },
    healthCheck: { enabled: false },
  };
  const workflows = Object.fromEntries(
    readdirSync(join(ROOT, 'workflows')).map((file) => [
      file,
      readFileSync(join(ROOT, 'workflows', file), 'utf8'),
    ]),
  );
  return startServer(registry, {
    env,
    workflows: { ...workflows, 'two_bookings.yaml': TWO_BOOKINGS, 'ping_offline.yaml': PING_OFFLINE },
    ...(apiKey ? { apiKey } : {}),
  });
}

/** Resolves once `selector` is on the page and visible. */
const shown = (page: Page, selector: string) => page.locator(selector).first().waitFor({ timeout: WAIT_MS });

let browser: Browser;
/** The demo without API keys, and with. */
let plain: ServerHarness;
let secured: ServerHarness;
const contexts: BrowserContext[] = [];
const pages: WatchedPage[] = [];

/**
 * A fresh tab in a fresh browser profile, watched for problems, at `path`;
 * `before` runs ahead of the navigation (to catch the requests of the page's start).
 */
async function open(
  h: ServerHarness,
  path: string,
  options: { viewport?: { width: number; height: number }; before?: (page: Page) => void } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 } });
  contexts.push(context);
  const watched = await watchedPage(context, h.url);
  pages.push(watched);
  options.before?.(watched.page);
  await watched.page.goto(`${h.url}${path}`);
  return watched.page;
}

beforeAll(async () => {
  // Side by side: each server starts the demo's stdio MCP servers, which takes seconds.
  [, browser, plain, secured] = await Promise.all([
    build({ configFile: join(ROOT, 'ui', 'vite.config.ts'), logLevel: 'warn' }),
    launchChromium(),
    demo(),
    demo({ API_KEYS: API_KEY }, API_KEY),
  ]);
});
afterEach(async () => {
  const problems = pages.splice(0).flatMap((p) => p.problems);
  for (const context of contexts.splice(0)) await context.close();
  // No script error, no CSP violation, nothing fetched from another host.
  expect(problems).toEqual([]);
});
afterAll(async () => {
  await Promise.all([browser?.close(), plain?.close(), secured?.close()]);
});

describe('without API keys', () => {
  let h: ServerHarness;
  beforeAll(() => {
    h = plain;
  });

  it('runs a workflow from the form generated from its input schema and watches its nodes turn completed', async () => {
    const page = await open(h, '/ui');
    await page.waitForURL(/\/ui\/executions$/, { timeout: WAIT_MS });
    // Bare /ui lands on the executions page itself, not only on its URL.
    await shown(page, 'form[aria-label="Filter executions"]');
    await page.getByRole('link', { name: 'Workflows' }).click();
    await shown(page, 'tr[data-workflow="training_plan"]');
    await screenshot(page, 'workflows');
    await page.getByRole('link', { name: 'training_plan' }).click();
    await shown(page, '.dag [data-step="notify"]');
    expect(await page.locator('pre.yaml').textContent()).toContain('action: generate_plan');

    // Fields from `required: [user_id, weeks, phone]` and `weeks: { type: integer }`.
    await page.getByLabel('user_id').fill('athlete-7');
    await page.getByLabel('phone').fill('+15551234567');
    expect(await page.getByLabel('weeks').getAttribute('type')).toBe('number');
    await page.getByRole('button', { name: 'Run workflow' }).click();
    // The server's answer lands beside the field it names.
    await shown(page, '#input-weeks[aria-invalid="true"]');
    expect(await page.locator('#input-weeks-error').textContent()).toContain('is required');
    await screenshot(page, 'workflow-run-form');

    await page.getByLabel('weeks').fill('2');
    await page.getByRole('button', { name: 'Run workflow' }).click();
    await page.waitForURL(/\/ui\/executions\/[^/]+$/, { timeout: WAIT_MS });
    // The plan takes a second per week: the page sees it run, then finish, over the event stream.
    await shown(page, '.dag [data-step="plan"][data-status="running"]');
    await screenshot(page, 'execution-running');
    await shown(page, '.dag [data-step="plan"][data-status="completed"]');
    await shown(page, '.dag [data-step="notify"][data-status="completed"]');
    await shown(page, '.execution-status[data-status="completed"]');
    expect(await page.locator('.timeline tr[data-step="plan"] .attempts').textContent()).toMatch(
      /^#1 completed, [\d.]+ s$/,
    );
    // Cancel is offered only while the execution runs.
    expect(await page.getByRole('button', { name: 'Cancel execution' }).count()).toBe(0);
    await page.locator('#step-plan summary', { hasText: 'Result' }).click();
    await shown(page, '#step-plan .json-key:text-is("sessions")');
    await screenshot(page, 'execution-completed');
  });

  it('shows where a saga rolled back: the failed step and the compensation trail in order', async () => {
    const page = await open(h, '/ui/workflows/book_coaching_session');
    // This schema names its required fields only: each becomes a text field.
    await page.getByLabel('user_id').fill('user-1');
    await page.getByLabel('coach_id').fill('coach-123');
    await page.getByLabel('slot').fill('2030-01-07T18:00');
    await page.getByLabel('phone').fill('+15550000000'); // the demo SMS server rejects it
    await page.getByRole('button', { name: 'Run workflow' }).click();
    await shown(page, '.execution-status[data-status="compensated"]');
    await shown(page, '.dag [data-step="confirm"][data-status="failed"]');
    await shown(page, '.dag [data-step="booking"][data-status="compensated"]');
    expect(await page.locator('.error-box').textContent()).toContain('carrier rejected +15550000000');
    expect(
      await page
        .locator('ol.trail > li')
        .evaluateAll((items) => items.map((li) => li.getAttribute('data-step'))),
    ).toEqual(['booking']);
    await screenshot(page, 'execution-compensated');
    // The README's picture: what the window shows, the graph, timeline and trail of the demo's saga.
    if (process.env.UPDATE_CONSOLE_SCREENSHOT)
      await page.screenshot({ path: join(ROOT, 'docs', 'console.png') });

    // Two undoable steps: the rollback runs in reverse order of completion.
    const started = await h.json<{ id: string; status: string }>(
      'POST',
      '/workflows/two_bookings/executions?wait=20000',
      {
        body: { input: { user_id: 'user-2' } },
      },
    );
    expect(started.body.status).toBe('compensated');
    await page.goto(`${h.url}/ui/executions/${started.body.id}`);
    await shown(page, 'ol.trail > li[data-step="first"][data-status="completed"]');
    expect(
      await page
        .locator('ol.trail > li')
        .evaluateAll((items) => items.map((li) => li.getAttribute('data-step'))),
    ).toEqual(['second', 'first']);
    expect(await page.locator('ol.trail').textContent()).toMatch(/second\s*compensated.*first\s*compensated/);
    // Each compensation with its time, duration and what the undo returned.
    expect(await page.locator('ol.trail > li[data-step="second"]').textContent()).toMatch(
      /1 attempt · started .+ · \d+(\.\d+)? (ms|s).*Result/,
    );
    // The timeline tells each attempt: the SMS failed once, the bookings completed.
    expect(await page.locator('.timeline tr[data-step="confirm"] ol.attempts').textContent()).toMatch(
      /^#1 failed, \d/,
    );
    expect(await page.locator('.timeline tr[data-step="first"] ol.attempts').textContent()).toMatch(
      /^#1 completed, \d/,
    );
  });

  it('lists executions filtered by status and workflow, following running ones live', async () => {
    const ping = await h.json<{ id: string; status: string }>(
      'POST',
      '/workflows/ping_offline/executions?wait=20000',
    );
    expect(ping.body.status).toBe('failed');
    const running = await h.json<{ id: string }>('POST', '/workflows/training_plan/executions', {
      body: { input: { user_id: 'athlete-9', weeks: 30, phone: '+15551234567' } },
    });
    const id = running.body.id;

    let stream: Promise<unknown> = Promise.resolve();
    const page = await open(h, '/ui/executions?workflow=training_plan', {
      before: (p) => {
        stream = p.waitForRequest(
          (r) => r.url().endsWith('/events?workflow=training_plan&topics=executions'),
          {
            timeout: WAIT_MS,
          },
        );
      },
    });
    await shown(page, `tr[data-execution="${id}"][data-status="running"]`);
    // The list follows the server's one event stream, filtered by its workflow.
    await stream;
    // An execution started now shows up from its workflow_started event, before any periodic re-read (15 s).
    const another = await h.json<{ id: string }>('POST', '/workflows/training_plan/executions', {
      body: { input: { user_id: 'athlete-10', weeks: 30, phone: '+15551234567' } },
    });
    await shown(page, `tr[data-execution="${another.body.id}"][data-status="running"]`);
    expect((await h.json('POST', `/executions/${another.body.id}/cancel`)).status).toBe(202);
    await shown(page, `tr[data-execution="${another.body.id}"][data-status="cancelled"]`);
    expect(await page.locator('#filter-workflow').inputValue()).toBe('training_plan');
    for (const workflow of await page.locator('tbody tr td:nth-child(2)').allTextContents())
      expect(workflow).toMatch(/^training_plan /);
    await screenshot(page, 'executions-running');
    expect((await h.json('POST', `/executions/${id}/cancel`)).status).toBe(202);
    await shown(page, `tr[data-execution="${id}"][data-status="cancelled"]`);

    await page.locator('#filter-workflow').selectOption('');
    await page.locator('#filter-status').selectOption('failed');
    await page.waitForURL(/\/ui\/executions\?status=failed$/, { timeout: WAIT_MS });
    await shown(page, `tr[data-execution="${ping.body.id}"]`);
    await page.locator(`tr[data-execution="${id}"]`).waitFor({ state: 'detached', timeout: WAIT_MS });
    expect(
      new Set(
        await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status'))),
      ),
    ).toEqual(new Set(['failed']));
    await screenshot(page, 'executions-failed');
  });

  it('shows MCP health, latency, breaker and source, checks one now and resets an open breaker', async () => {
    // One failed call opens `offline`'s breaker (failureThreshold 1).
    expect(
      (await h.json<{ status: string }>('POST', '/workflows/ping_offline/executions?wait=20000')).body.status,
    ).toBe('failed');
    const page = await open(h, '/ui/mcps');
    const offline = page.locator('[data-mcp="offline"]');
    await shown(page, '[data-mcp="offline"][data-breaker="open"]');
    expect(await offline.textContent()).toMatch(/Sourcefile/);
    expect(await offline.textContent()).toMatch(/open since/);

    const textbee = page.locator('[data-mcp="textbee"]');
    await textbee.getByRole('button', { name: 'Check now textbee' }).click();
    await shown(page, '[data-mcp="textbee"][data-health="healthy"]');
    expect(await textbee.locator('dd').nth(2).textContent()).toMatch(/healthy\s*[\d.]+ (ms|s)/);
    expect(await page.getByRole('status').textContent()).toMatch(/^textbee: healthy/);
    await screenshot(page, 'mcps-breaker-open');

    await offline.getByRole('button', { name: 'Reset breaker of offline' }).click();
    await shown(page, '[data-mcp="offline"][data-breaker="closed"]');
    expect(await page.getByRole('status').textContent()).toBe('offline: circuit breaker closed');
    const after = await h.json<{ circuitBreaker: { state: string } }>('GET', '/mcps/offline');
    expect(after.body.circuitBreaker.state).toBe('closed');
    await screenshot(page, 'mcps');
  });

  it('reads at phone width and works from the keyboard', async () => {
    const done = await h.json<{ id: string }>('POST', '/workflows/send_coached_sms/executions?wait=20000', {
      body: { input: { phone: '+15551234567', coach_id: 'coach-123', message: 'Practice moved to 6pm' } },
    });
    const page = await open(h, `/ui/executions/${done.body.id}`, { viewport: { width: 390, height: 844 } });
    await shown(page, '.dag [data-step="send_sms"][data-status="completed"]');
    // Nothing wider than the screen: no sideways scrolling of the page.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await screenshot(page, 'phone-execution');

    // Tab reaches the skip link first, then the brand and the navigation; a link followed by Enter moves
    // the focus to the new page's heading.
    await page.keyboard.press('Tab');
    await shown(page, 'a.skip-link:focus');
    for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
    expect(await page.locator(':focus').textContent()).toBe('MCP servers');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/ui\/mcps$/, { timeout: WAIT_MS });
    await shown(page, 'h1#page-title:focus:text-is("MCP servers")');
    await shown(page, '[data-mcp="textbee"]');
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await screenshot(page, 'phone-mcps');

    // A graph node is a link to its step's details.
    await page.goto(`${h.url}/ui/executions/${done.body.id}`);
    await shown(page, '.dag a[aria-label="get_contact: completed"]');
    await page.locator('.dag a[aria-label="get_contact: completed"]').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/#step-get_contact$/, { timeout: WAIT_MS });
  });
});

describe('with API keys', () => {
  let h: ServerHarness;
  beforeAll(() => {
    h = secured;
  });

  it('asks for the key once, keeps it for the tab only, and cancels an execution it follows live', async () => {
    const page = await open(h, '/ui/executions');
    await shown(page, 'h1:text-is("API key needed")');
    await screenshot(page, 'api-key-prompt');
    await page.getByLabel('API key').fill('not-the-key-000000000000');
    await page.getByRole('button', { name: 'Use this key' }).click();
    await shown(page, '[role="alert"]:text-is("The server refused this key.")');
    await page.getByLabel('API key').fill(API_KEY);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await shown(page, 'h1:text-is("Executions")');

    // A long plan, followed over the event stream (with the key), then cancelled from the page.
    const started = await h.json<{ id: string }>('POST', '/workflows/training_plan/executions', {
      body: { input: { user_id: 'athlete-3', weeks: 30, phone: '+15551234567' } },
    });
    await page.goto(`${h.url}/ui/executions/${started.body.id}`);
    // Reloaded: the tab still has its key.
    await shown(page, '.dag [data-step="plan"][data-status="running"]');
    await page.getByRole('button', { name: 'Cancel execution' }).click();
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await shown(page, '.execution-status[data-status="cancelled"]');
    await shown(page, '.dag [data-step="plan"][data-status="cancelled"]');
    // Called off before it started.
    await shown(page, '.dag [data-step="notify"][data-status="cancelled"]');
    await screenshot(page, 'execution-cancelled');
    const stored = await h.json<{ status: string }>('GET', `/executions/${started.body.id}`);
    expect(stored.body.status).toBe('cancelled');

    // The key lives in this tab's session storage only: not on disk, not in cookies, not in another tab.
    expect(await page.evaluate<number>('localStorage.length')).toBe(0);
    expect(await page.context().cookies()).toEqual([]);
    const other = await page.context().newPage();
    await other.goto(`${h.url}/ui/workflows`);
    await shown(other, 'h1:text-is("API key needed")');
    await other.close();

    // Forgetting the key asks again.
    await page.getByRole('button', { name: 'Forget API key' }).click();
    await page.goto(`${h.url}/ui/mcps`);
    await shown(page, 'h1:text-is("API key needed")');
  });

  it('serves the page itself without a key, and the API not', async () => {
    expect((await fetch(`${h.url}/ui/`)).status).toBe(200);
    expect((await fetch(`${h.url}/ui/executions/anything`)).headers.get('content-type')).toMatch(
      /^text\/html/,
    );
    expect((await fetch(`${h.url}/executions`)).status).toBe(401);
  });
});
