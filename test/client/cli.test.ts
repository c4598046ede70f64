import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startTestWorkers } from '../helpers/workers.ts';

// The campaign manager's command line, as a process, against the api on a socket and a worker.
const bin = fileURLToPath(new URL('../../client/bin/admatrix.ts', import.meta.url));
const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

let t: TestApp;
let workers: ReturnType<typeof startTestWorkers>;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-cli-'));
  t = await createTestApp({ STORAGE_DIR: join(dir, 'storage'), WORK_DIR: join(dir, 'work') });
  workers = startTestWorkers(t, { RENDER_POLL_INTERVAL_MS: '50', LOCAL_MAX_CONCURRENT: '2' });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const key = (await t.key('cli-co')).slice('Bearer '.length);
  env = {
    PATH: process.env.PATH ?? '',
    ADMATRIX_URL: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`,
    ADMATRIX_API_KEY: key,
    ADMATRIX_POLL_MS: '200',
  };
  await writeFile(
    join(dir, 'brief.json'),
    JSON.stringify({
      name: 'CLI launch',
      brief: { product: 'Fizz', key_message: 'Cold' },
      prompt_template: 'A {{tone}} ad for {{brief.product}} with {{partner}}',
      video: { provider: 'local', seconds: 1, size: '320x180' },
      overlay: { logo_position: 'top-right' },
    }),
  );
  await mkdir(join(dir, 'logos'));
  for (const name of ['acme.png', 'globex.png'])
    await copyFile(join(examples, 'logos', name), join(dir, 'logos', name));
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

function admatrix(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env, cwd: dir, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the admatrix command line', () => {
  it('creates a campaign, uploads a sheet with logos, quotes, runs with --watch, downloads videos and the report', {
    timeout: 240_000,
  }, async () => {
    const campaign = await admatrix('campaign', 'create', 'brief.json');
    expect(campaign.code, campaign.stderr).toBe(0);
    const campaignId = campaign.stdout.trim();
    expect(campaignId).toMatch(/^cmp_/);

    // One level names its file, one is linked by its key, one has no logo.
    await writeFile(
      join(dir, 'sheet.csv'),
      'dimension,level,label,asset_id\ntone,playful,Playful,\ntone,calm,Calm,\npartner,acme,Acme,@logos/acme.png\npartner,globex,Globex,\npartner,none,No partner,\n',
    );
    const upload = await admatrix('matrix', 'upload', campaignId, 'sheet.csv', '--logos', 'logos');
    expect(upload.code, upload.stderr).toBe(0);
    expect(upload.stderr).toContain('2 level(s) linked to a logo');
    const matrixId = upload.stdout.trim();
    const matrix = (
      await t.app.inject({
        url: `/v1/matrices/${matrixId}`,
        headers: { authorization: `Bearer ${env.ADMATRIX_API_KEY}` },
      })
    ).json();
    const partner = matrix.dimensions.find((d: { key: string }) => d.key === 'partner');
    expect(partner.levels.map((l: { asset_id?: string }) => Boolean(l.asset_id))).toEqual([
      true,
      true,
      false,
    ]);

    const quote = await admatrix('quote', matrixId, '--design', 'full');
    expect(quote.code, quote.stderr).toBe(0);
    expect(quote.stdout).toMatch(/^variants\s+6$/m);
    expect(quote.stdout).toMatch(/^cost\s+\$0\.00$/m);

    const run = await admatrix(
      'run',
      'start',
      campaignId,
      '--matrix',
      matrixId,
      '--design',
      'full',
      '--watch',
    );
    expect(run.code, run.stderr).toBe(0);
    const runId = run.stdout.trim();
    expect(run.stderr).toMatch(/\[#{30}\] 6\/6 completed/);

    const videos = join(dir, 'videos');
    const download = await admatrix('variants', 'download', runId, videos);
    expect(download.code, download.stderr).toBe(0);
    const files = (await readdir(videos)).sort();
    expect(files).toHaveLength(6);
    const { rows } = await t.testDb.pool.query<{ id: string; video_sha256: string }>(
      'SELECT id, video_sha256 FROM variants WHERE run_id = $1',
      [runId],
    );
    for (const r of rows) {
      const file = files.find((f) => f.endsWith(`_${r.id}.mp4`));
      expect(file).toBeDefined();
      const bytes = await readFile(join(videos, file!));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(r.video_sha256);
    }
    // Again: nothing to fetch, the same files.
    const again = await admatrix('variants', 'download', runId, videos);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('');

    const report = await admatrix('report', campaignId, '--format', 'xlsx', '-o', 'report.xlsx');
    expect(report.code, report.stderr).toBe(0);
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(join(dir, 'report.xlsx'));
    expect(book.worksheets.length).toBeGreaterThan(1);
  });

  it('links logos inside an .xlsx sheet too', { timeout: 60_000 }, async () => {
    const campaignId = (await admatrix('campaign', 'create', 'brief.json')).stdout.trim();
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('matrix');
    sheet.addRows([
      ['Dimension', 'Level', 'Label'],
      ['tone', 'playful', 'Playful'],
      ['partner', 'acme', 'Acme'],
      ['partner', 'globex', 'Globex'],
    ]);
    await book.xlsx.writeFile(join(dir, 'sheet.xlsx'));
    const upload = await admatrix('matrix', 'upload', campaignId, 'sheet.xlsx', '--logos', 'logos');
    expect(upload.code, upload.stderr).toBe(0);
    expect(upload.stderr).toContain('2 level(s) linked to a logo');
  });

  it('prints the problem with its rows and columns, and exits non-zero', async () => {
    const campaignId = (await admatrix('campaign', 'create', 'brief.json')).stdout.trim();
    await writeFile(
      join(dir, 'bad.csv'),
      'dimension,level,label\ntone,playful,Playful\ntone,,Empty\n',
    );
    const bad = await admatrix('matrix', 'upload', campaignId, 'bad.csv');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^error: .+ \(HTTP 4\d\d\)$/m);
    expect(bad.stderr).toMatch(/^ {2}- row 3, column level: level is empty$/m);

    const missing = await admatrix(
      'matrix',
      'upload',
      campaignId,
      'sheet.csv',
      '--logos',
      'nowhere',
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: .*nowhere/m);

    const unknown = await admatrix('campaign', 'explode');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Usage: admatrix');

    const foreign = await admatrix('quote', 'mtx_nope');
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/HTTP 404/);
  });
});
