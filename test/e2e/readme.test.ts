import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadRenderVariant } from '../../src/render/repository.ts';
import { testEncoderEnv, testPrefix } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { runCli, type Spawned } from '../helpers/process.ts';

/**
 * README.md's curl session, run as pasted: the fenced blocks after each
 * `<!-- readme-session -->` marker, in order, in one bash with `set -euo pipefail`, against a
 * real `admatrix api` and `admatrix worker` on this file's database and queue prefix.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));

function sessionBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const marker = /<!-- readme-session -->\s*\n```(?:sh|bash)\n([\s\S]*?)\n```/g;
  for (const m of markdown.matchAll(marker)) blocks.push(m[1]!);
  return blocks;
}

let db: TestDatabase;
let dir: string;
let api: Spawned;
let worker: Spawned;
const prefix = testPrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  // A directory of the session's own (it writes variant.mp4 and metrics.csv), shaped like the
  // repository: the commands it runs are `npm run …` and paths under examples/.
  dir = await mkdtemp(join(tmpdir(), 'amx-readme-'));
  for (const entry of ['package.json', 'src', 'examples', 'node_modules'])
    await symlink(join(root, entry), join(dir, entry));
}, 60_000);

afterAll(async () => {
  api?.child.kill('SIGTERM');
  worker?.child.kill('SIGTERM');
  await Promise.allSettled([api?.exited(), worker?.exited()]);
  const redis = new Redis(inject('redisUrl'));
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function runBash(script: string, env: Record<string, string>, timeoutMs: number) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: dir, env, detached: true });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    // The whole process group: curl or sleep inside the README's loop included.
    const timer = setTimeout(() => {
      out += `\n[killed after ${timeoutMs} ms]`;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('the README', () => {
  it('runs its curl session as pasted, against a real api and worker', {
    timeout: 240_000,
  }, async () => {
    const blocks = sessionBlocks(await readFile(join(root, 'README.md'), 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(5);

    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: prefix,
      STORAGE_DIR: join(dir, '.data/storage'),
      WORK_DIR: join(dir, '.data/work'),
      ...testEncoderEnv,
      LOG_LEVEL: 'info',
    };
    api = runCli(['api'], { ...env, PORT: '0', HOST: '127.0.0.1' });
    worker = runCli(['worker'], env);
    const [, url] = await api.waitForOutput(
      /Server listening at (http:\/\/127\.0\.0\.1:\d+)/,
      60_000,
    );
    await worker.waitForOutput(/worker started/, 60_000);

    // Markers between the blocks say how far it got; the ids it set are printed at the end.
    const script = [
      'set -euo pipefail',
      ...blocks.flatMap((b, i) => [b, `echo "::block ${i + 1} ok::"`]),
      'echo "::ids $CMP $AST $MTX $RUN $VAR::"',
    ].join('\n');
    const { code, out } = await runBash(
      script,
      { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, AMX: url!, ...env },
      180_000,
    );
    const logs = `session:\n${out}\nworker (last 3 KB):\n${worker.output().slice(-3000)}`;
    expect(code, logs).toBe(0);
    for (let i = 1; i <= blocks.length; i++) expect(out).toContain(`::block ${i} ok::`);

    const ids = out.match(/::ids (\S+) (\S+) (\S+) (\S+) (\S+)::/)?.slice(1);
    expect(ids).toEqual([
      expect.stringMatching(/^cmp_/),
      expect.stringMatching(/^ast_/),
      expect.stringMatching(/^mtx_/),
      expect.stringMatching(/^run_/),
      expect.stringMatching(/^var_/),
    ]);
    // The quote, the filtered variants, the metrics upload and the report all printed.
    expect(out).toMatch(/"variant_count":\s*9/);
    expect(out).toMatch(/"levels":\{[^}]*"tone":"playful"/);
    expect(out).toMatch(/"upserted":\s*9/);
    expect(out).toMatch(/variant_id,status,tone,setting,city,partner,/);
    expect(out).toMatch(/^var_\w+,ready,playful,\w+,\w+,acme,/m);

    // The video downloaded, an MP4 carrying the uploaded logo.
    const mp4 = await readFile(join(dir, 'variant.mp4'));
    expect(mp4.subarray(4, 8).toString()).toBe('ftyp');
    const variant = await loadRenderVariant(db.db, ids![4]!);
    expect(variant?.status).toBe('ready');
    expect(variant?.logo_key).toEqual(expect.any(String));
  });
});
