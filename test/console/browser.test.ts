import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, waitFor } from '../helpers/app.ts';
import { startTestWorkers } from '../helpers/workers.ts';
import { matrixCsv } from './helpers.ts';

/** Debian's chromium (.ci/run installs it); without it the test skips and says why. */
const executablePath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) =>
  existsSync(p),
);
if (!executablePath)
  console.warn(
    'console browser test skipped: no chromium at /usr/bin/chromium (apt-get install chromium)',
  );

let t: TestApp;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;
let browser: Browser;
let base: string;
let key: string;
/** Pages the first test reached, visited again at 390 px by the second. */
const visited: string[] = [];
const cspViolations: string[] = [];
/** CONSOLE_SCREENSHOTS=docs/console saves the README's screenshots as the test passes by. */
const shots = process.env.CONSOLE_SCREENSHOTS;
const shoot = async (page: Page, name: string) => {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
};

beforeAll(async () => {
  if (!executablePath) return;
  dir = await mkdtemp(join(tmpdir(), 'amx-console-'));
  t = await createTestApp({ STORAGE_DIR: join(dir, 'storage'), WORK_DIR: join(dir, 'work') });
  workers = startTestWorkers(t, { RENDER_POLL_INTERVAL_MS: '50', LOCAL_MAX_CONCURRENT: '2' });
  key = (await t.key('browser-co')).slice(7);
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await workers?.close();
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function newPage(width: number): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/.test(msg.text())) cspViolations.push(msg.text());
  });
  return page;
}

/** Every visible control has an accessible name (label, aria-label or text). */
async function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea')]
    .filter((e) => !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim()))
    .map((e) => e.outerHTML.slice(0, 120))`);
}

/** playwright-core has no expect(): wait for a condition on a locator, with a deadline. */
const count = (loc: Locator, n: number, timeoutMs = 10_000) =>
  waitFor(async () => ((await loc.count()) === n ? true : undefined), {
    timeoutMs,
    what: `${n} of ${loc}`,
  });
const text = (loc: Locator, value: string, timeoutMs = 10_000) =>
  waitFor(async () => ((await loc.first().textContent())?.trim() === value ? true : undefined), {
    timeoutMs,
    what: `${loc} to read ${value}`,
  });

describe.skipIf(!executablePath)('console in Chromium', () => {
  it('signs in, creates a campaign, uploads a CSV, quotes, runs on local, approves two and finds each chart', async () => {
    const page = await newPage(1280);
    await page.goto(`${base}/console`);
    await page.getByLabel('API key').fill(key);
    // Not a password field (no save prompt), yet masked on screen by the engine's CSS.
    const field = await page.evaluate<string[]>(
      `(() => { const el = document.getElementById('api_key'); return [el.type, getComputedStyle(el).getPropertyValue('-webkit-text-security')]; })()`,
    );
    expect(field).toEqual(['text', 'disc']);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'New campaign' }).click();
    expect(await unnamedControls(page)).toEqual([]);
    await page.getByLabel('Campaign name').fill('Browser <b>bold</b> campaign');
    await page.getByLabel('Product').fill('Aurora sneakers');
    await page.getByLabel('Key message').fill('Light as air');
    await page
      .getByLabel('Prompt template')
      .fill('A {{tone}} ad for {{brief.product}} in {{setting}}');
    await page.getByLabel('Provider and model').selectOption('local:card-v1');
    await page.getByLabel('Seconds').fill('1');
    await page.getByLabel('Size (WIDTHxHEIGHT)').fill('320x180');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await text(page.getByRole('heading', { level: 1 }), 'Browser <b>bold</b> campaign');

    await page
      .getByLabel('Matrix file')
      .setInputFiles({ name: 'matrix.csv', mimeType: 'text/csv', buffer: Buffer.from(matrixCsv) });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page
      .getByRole('cell', { name: "<script>alert('x')</script>" })
      .or(page.getByText("<script>alert('x')</script>"))
      .first()
      .waitFor();
    // A design the service refuses: the reason appears where the quote would be.
    await page.getByLabel('Design', { exact: true }).selectOption('sample');
    await page.getByRole('button', { name: 'See quote' }).click();
    await page.getByText('A sample needs a number of variants.').waitFor();
    await page.getByLabel('Design', { exact: true }).selectOption('full');
    await page.getByLabel('Expected CTR in % (for the minimum detectable effect)').fill('1.5');
    await page.getByLabel('Impressions per variant').fill('20000');
    await page.getByRole('button', { name: 'See quote' }).click();
    await text(page.getByTestId('variant-count'), '4');
    // 2×2 full factorial: 1 residual df and 2 Holm-adjusted tests, so t(1) at 1.25%: +610%, where
    // an unadjusted z promised +23.5%.
    await text(page.getByTestId('mde-tone'), '+610% CTR');
    await shoot(page, 'matrix-quote');
    // htmx swapped the quote in place: still the matrix page.
    expect(page.url()).toMatch(/\/console\/matrices\/mtx_/);
    expect(await unnamedControls(page)).toEqual([]);
    visited.push(new URL(page.url()).pathname);

    await page.getByRole('button', { name: 'Start run' }).dblclick();
    await page.waitForURL(/\/console\/runs\/run_/);
    visited.push(new URL(page.url()).pathname, `${new URL(page.url()).pathname}/review`);
    await text(page.getByTestId('run-status'), 'completed', 60_000);
    await shoot(page, 'run-progress');
    const runs = await t.testDb.pool.query('SELECT count(*)::int AS n FROM runs');
    expect(runs.rows[0].n).toBe(1);

    await page.getByRole('link', { name: 'Review variants' }).click();
    await page.locator('.variant img').first().waitFor();
    await shoot(page, 'review-grid');
    const approve = page.locator('.variant button', { hasText: 'Approve' });
    await count(approve, 4).catch(async (err) => {
      throw new Error(`${err}: ${await page.locator('main').innerHTML()}`);
    });
    const names = await approve.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(names).toContain(`Approve <script>alert('x')</script> · Beach`);
    await approve.first().click();
    await count(approve, 3);
    await approve.first().click();
    await count(approve, 2);
    await count(page.getByTestId('status').filter({ hasText: 'approved' }), 2);
    expect(await unnamedControls(page)).toEqual([]);
    // The other two in bulk with a reason: one checked on the page, then all the filter matches.
    await page.locator('.variant', { hasText: 'ready' }).getByRole('checkbox').first().check();
    await page.getByLabel('Reason (optional)').fill('off-brand');
    await page.getByRole('button', { name: 'Reject selected' }).click();
    await count(page.getByTestId('status').filter({ hasText: 'rejected' }), 1);
    await page.getByLabel('Status').selectOption('ready');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('button', { name: 'Reject all 1 matching…' }).click();
    await text(
      page.getByTestId('bulk-count'),
      'This will reject 1 variant: every ready variant of this run matching tone: any, setting: any.',
    );
    expect(await unnamedControls(page)).toEqual([]);
    await page.getByLabel('Reason (optional)').fill('off-brand');
    await page.getByRole('button', { name: 'Reject 1 variant' }).click();
    await page.getByRole('status').filter({ hasText: '1 variant rejected.' }).waitFor();
    await count(page.locator('.variant'), 0);
    const reasons = await t.testDb.pool.query(
      "SELECT count(*)::int AS n FROM variants WHERE status = 'rejected' AND review_reason = 'off-brand'",
    );
    expect(reasons.rows[0].n).toBe(2);
    await page.getByLabel('Status').selectOption('approved');
    await page.getByRole('button', { name: 'Filter' }).click();
    await count(page.locator('.variant'), 2);
    // A thumbnail opens its video and plays it (a <details> disclosure: click or Enter).
    await page.locator('summary').first().click();
    await page.locator('video').first().waitFor({ state: 'visible' });
    await waitFor(
      async () =>
        (await page
          .locator('video')
          .first()
          .evaluate((v) => (v as unknown as { currentTime: number }).currentTime > 0))
          ? true
          : undefined,
      { timeoutMs: 10_000, what: 'the opened video to play' },
    );

    // A few days of metrics on two platforms, so the report has effects to draw.
    const ids = await t.testDb.pool.query<{ id: string }>('SELECT id FROM variants ORDER BY id');
    const lines = ids.rows.flatMap((v, i) =>
      ['2026-11-01', '2026-11-02', '2026-11-03'].flatMap((date, d) =>
        ['meta', 'tiktok'].map(
          (platform, p) =>
            `${v.id},${date},${platform},${4000 + d * 500},${60 + i * 25 + d * 5 + p * 10}`,
        ),
      ),
    );
    const metrics = await t.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
      payload: ['variant_id,date,platform,impressions,clicks', ...lines].join('\n'),
    });
    expect(metrics.statusCode, metrics.body).toBeLessThan(300);
    await page.goto(page.url().replace(/\/console\/runs\/.*/, '/console'));
    await page.getByRole('link', { name: 'Browser <b>bold</b> campaign' }).click();
    await page.getByRole('link', { name: 'What won (report)' }).click();
    await page.waitForURL(/\/report$/);
    visited.push(new URL(page.url()).pathname);
    await page.getByRole('img', { name: 'Effects of tone' }).waitFor();
    await page.getByRole('img', { name: 'Effects of setting' }).waitFor();
    await page.getByRole('img', { name: 'CTR by tone and setting' }).waitFor();
    await page.getByRole('img', { name: 'CTR over time by platform' }).waitFor();
    await shoot(page, 'report');
    expect(cspViolations).toEqual([]);
    await page.close();
  }, 120_000);

  it('fits 390 px without sideways scrolling and works by keyboard', async () => {
    const page = await newPage(390);
    await page.goto(`${base}/console/sign-in`);
    await page.keyboard.press('Tab');
    await page.keyboard.type(key);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/console`);
    for (const path of ['/console', '/console/campaigns/new', ...visited]) {
      await page.goto(`${base}${path}`);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      expect(overflow, path).toBeLessThanOrEqual(0);
      expect(await unnamedControls(page), path).toEqual([]);
    }
    expect(visited.length).toBe(4);
    await page.getByRole('button', { name: 'Sign out' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/console/sign-in`);
    expect(cspViolations).toEqual([]);
    await page.close();
  }, 60_000);
});
