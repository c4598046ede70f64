/**
 * `admatrix` for campaign managers and scripts, over the typed client, against a running server
 * (ADMATRIX_URL, ADMATRIX_API_KEY). Results go to stdout (ids, one per line, for scripts);
 * progress and messages to stderr. Exit codes: 0 done, 1 the server refused or variants failed,
 * 2 usage.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { type AdmatrixClient, AdmatrixProblem, createAdmatrixClient } from '../index.ts';
import { linkLogos, logoFiles, SheetError } from './sheet.ts';

export const usage = `Usage: admatrix <command> (ADMATRIX_URL and ADMATRIX_API_KEY set)

  campaign create brief.json                  create a campaign; prints its id
  matrix upload CAMPAIGN sheet.csv|.xlsx [--logos DIR]
                                              add a matrix; --logos uploads DIR's images and links
                                              them to levels by @file.png or by file name = level key
  quote MATRIX [--design full|pairwise|balanced] [--variants N]
                                              count and cost of a design, writing nothing
  run start CAMPAIGN --matrix MATRIX [--design …] [--variants N] [--watch]
                                              start a run; --watch shows progress until it settles
  variants download RUN DIR                   the run's videos, one MP4 per variant
  report CAMPAIGN [--format json|csv|xlsx] [-o FILE]
                                              the performance report`;

export class UsageError extends Error {}

interface Io {
  out: (line: string) => void;
  err: (text: string) => void;
  /** Whether stderr is a terminal (redraws the progress line in place). */
  tty: boolean;
  env: Record<string, string | undefined>;
}

type Options = Record<string, string | boolean | undefined>;

const settled = new Set(['completed', 'cancelled']);

function designOf(opts: Options) {
  const type = (opts.design as string | undefined) ?? 'full';
  if (!['full', 'pairwise', 'balanced'].includes(type))
    throw new UsageError(`--design is full, pairwise or balanced, not ${type}`);
  const n = opts.variants === undefined ? undefined : Number(opts.variants);
  if (n !== undefined && !(Number.isInteger(n) && n > 0))
    throw new UsageError('--variants is a positive integer');
  if (n !== undefined && type !== 'balanced')
    throw new UsageError('--variants goes with --design balanced');
  return (type === 'balanced' ? { type, ...(n ? { n } : {}) } : { type }) as
    | { type: 'full' }
    | { type: 'pairwise' }
    | { type: 'balanced'; n?: number };
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

function formWith(name: string, bytes: Uint8Array, type: string): FormData {
  const form = new FormData();
  form.append('file', new Blob([bytes as BlobPart], { type }), name);
  return form;
}

const commands: Record<
  string,
  (c: AdmatrixClient, args: string[], opts: Options, io: Io) => Promise<number>
> = {
  async 'campaign create'(c, [file], _opts, io) {
    const brief = JSON.parse(await readFile(need(file, 'brief.json'), 'utf8'));
    const campaign = await c.unwrap(c.POST('/v1/campaigns', { body: brief }));
    io.err(`campaign ${campaign.id}: ${campaign.name}\n`);
    io.out(campaign.id);
    return 0;
  },

  async 'matrix upload'(c, [campaign, file], opts, io) {
    const sheet = need(file, 'the sheet (.csv or .xlsx)');
    const xlsx = sheet.toLowerCase().endsWith('.xlsx');
    let bytes: Uint8Array = await readFile(sheet);
    if (typeof opts.logos === 'string') {
      const assets = new Map<string, string>();
      for (const logo of await logoFiles(opts.logos)) {
        const form = formWith(logo.name, await readFile(logo.path), logo.contentType);
        const asset = await c.unwrap(
          c.POST('/v1/assets', { body: form as never, bodySerializer: () => form }),
        );
        assets.set(logo.name, asset.id);
        io.err(`logo ${logo.name} → ${asset.id}\n`);
      }
      const linked = await linkLogos(sheet, assets);
      bytes = linked.bytes;
      io.err(`${linked.linked} level(s) linked to a logo\n`);
    }
    const type = xlsx
      ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
      : 'text/csv';
    const form = formWith(basename(sheet), bytes, type);
    const matrix = await c.unwrap(
      c.POST('/v1/campaigns/{id}/matrices', {
        params: { path: { id: need(campaign, 'CAMPAIGN') } },
        body: form as never,
        bodySerializer: () => form,
      }),
    );
    const dims = matrix.dimensions.map((d) => `${d.key} (${d.levels.length})`).join(' × ');
    io.err(`matrix ${matrix.id}: ${dims}\n`);
    for (const w of (matrix as { warnings?: { message: string }[] }).warnings ?? [])
      io.err(`warning: ${w.message}\n`);
    io.out(matrix.id);
    return 0;
  },

  async quote(c, [matrix], opts, io) {
    const q = await c.unwrap(
      c.POST('/v1/matrices/{id}/preview', {
        params: { path: { id: need(matrix, 'MATRIX') } },
        body: { design: designOf(opts), sample_size: 0 },
      }),
    );
    io.out(`variants       ${q.variant_count}`);
    io.out(`cost           $${q.estimated_cost_usd.toFixed(2)}`);
    if (q.budget.budget_usd !== null)
      io.out(
        `budget left    $${(q.budget.remaining_usd ?? 0).toFixed(2)}${q.budget.fits ? '' : ' (does not fit)'}`,
      );
    const stats = q.design_stats as {
      estimable?: boolean;
      d_efficiency?: number | null;
      warning?: string | null;
    };
    if (stats.estimable !== undefined)
      io.out(
        `estimable      ${stats.estimable ? 'yes' : 'no'}${stats.d_efficiency != null ? ` (D-efficiency ${stats.d_efficiency.toFixed(2)})` : ''}`,
      );
    if (stats.warning) io.err(`warning: ${stats.warning}\n`);
    return 0;
  },

  async 'run start'(c, [campaign], opts, io) {
    const run = await c.unwrap(
      c.POST('/v1/campaigns/{id}/runs', {
        params: {
          path: { id: need(campaign, 'CAMPAIGN') },
          header: { 'Idempotency-Key': crypto.randomUUID() },
        },
        body: {
          matrix_id: need(opts.matrix as string | undefined, '--matrix MATRIX'),
          design: designOf(opts),
        },
      }),
    );
    io.err(
      `run ${run.id}: ${run.variant_count} variants, ${run.new_variant_count} new, $${run.estimated_cost_usd.toFixed(2)}\n`,
    );
    io.out(run.id);
    if (!opts.watch) return 0;
    for (;;) {
      const r = await c.unwrap(c.GET('/v1/runs/{id}', { params: { path: { id: run.id } } }));
      const counts = r.counts as Record<string, number>;
      const total = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
      const done =
        (counts.ready ?? 0) +
        (counts.failed ?? 0) +
        (counts.blocked ?? 0) +
        (counts.cancelled ?? 0);
      const width = 30;
      const filled = Math.round((done / total) * width);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${r.status}`;
      const detail = Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ');
      io.err(io.tty ? `\r${bar} (${detail})\x1b[K` : `${bar} (${detail})\n`);
      if (settled.has(r.status)) {
        if (io.tty) io.err('\n');
        const failed = (counts.failed ?? 0) + (counts.blocked ?? 0);
        if (failed)
          io.err(
            `${failed} variant(s) failed or were blocked: GET /v1/variants?run_id=${run.id}\n`,
          );
        return failed ? 1 : 0;
      }
      await new Promise((resolve) => setTimeout(resolve, Number(io.env.ADMATRIX_POLL_MS ?? 2000)));
    }
  },

  async 'variants download'(c, [run, dir], _opts, io) {
    const target = need(dir, 'DIR');
    await mkdir(target, { recursive: true });
    let saved = 0;
    let skipped = 0;
    const variants = c.pages((cursor) =>
      c.unwrap(
        c.GET('/v1/variants', {
          params: { query: { run_id: need(run, 'RUN'), cursor, limit: 200 } },
        }),
      ),
    );
    for await (const v of variants) {
      if (!v.video) {
        skipped++;
        continue;
      }
      const levels = Object.values(v.levels as Record<string, string>)
        .join('_')
        .replace(/[^\p{L}\p{N}_-]+/gu, '-');
      const path = join(target, `${levels}_${v.id}.mp4`);
      // Resumable: a file of the video's size is already there.
      if ((await stat(path).catch(() => null))?.size === v.video.bytes) {
        saved++;
        continue;
      }
      const { data, response } = await c.GET('/v1/variants/{id}/video', {
        params: { path: { id: v.id } },
        parseAs: 'stream',
      });
      if (!response.ok || !data)
        await c.unwrap(
          Promise.resolve({ response, error: await response.json().catch(() => undefined) }),
        );
      await pipeline(Readable.fromWeb(data as never), createWriteStream(path));
      saved++;
      io.out(path);
    }
    io.err(
      `${saved} video(s) in ${target}${skipped ? `, ${skipped} variant(s) without one yet` : ''}\n`,
    );
    return 0;
  },

  async report(c, [campaign], opts, io) {
    const format = (opts.format as string | undefined) ?? 'json';
    if (!['json', 'csv', 'xlsx'].includes(format))
      throw new UsageError('--format is json, csv or xlsx');
    const { response } = await c.GET('/v1/campaigns/{id}/report', {
      params: { path: { id: need(campaign, 'CAMPAIGN') }, query: { format: format as 'json' } },
      parseAs: 'stream',
    });
    if (!response.ok)
      await c.unwrap(
        Promise.resolve({ response, error: await response.json().catch(() => undefined) }),
      );
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (typeof opts.o === 'string') {
      await writeFile(opts.o, bytes);
      io.err(`report written to ${opts.o} (${bytes.length} bytes)\n`);
    } else io.out(new TextDecoder().decode(bytes).replace(/\n$/, ''));
    return 0;
  },
};

/** Prints a problem as the server said it: title, detail, then each field, row or column. */
function describeProblem(p: AdmatrixProblem): string {
  const lines = [`error: ${p.title} (HTTP ${p.status})`];
  if (p.detail) lines.push(`  ${p.detail}`);
  for (const e of p.errors) {
    const where = [
      e.sheet ? `sheet ${e.sheet}` : null,
      e.row !== undefined ? `row ${e.row}` : null,
      e.column !== undefined ? `column ${e.column}` : null,
      e.path ? String(e.path) : null,
    ].filter(Boolean);
    lines.push(`  - ${where.length ? `${where.join(', ')}: ` : ''}${e.message}`);
  }
  if (p.requestId) lines.push(`  (request ${p.requestId})`);
  return `${lines.join('\n')}\n`;
}

export async function runCli(argv: string[], io: Io): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        logos: { type: 'string' },
        design: { type: 'string' },
        variants: { type: 'string' },
        matrix: { type: 'string' },
        watch: { type: 'boolean' },
        format: { type: 'string' },
        o: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help || positionals.length === 0) {
      io.err(`${usage}\n`);
      return values.help ? 0 : 2;
    }
    const [first, second, ...rest] = positionals;
    const twoWords = `${first} ${second}`;
    const [name, args] = commands[twoWords] ? [twoWords, rest] : [first!, positionals.slice(1)];
    const command = commands[name];
    if (!command) throw new UsageError(`unknown command: ${positionals.join(' ')}`);
    const url = io.env.ADMATRIX_URL;
    const apiKey = io.env.ADMATRIX_API_KEY;
    if (!url || !apiKey) throw new UsageError('set ADMATRIX_URL and ADMATRIX_API_KEY');
    return await command(createAdmatrixClient({ baseUrl: url, apiKey }), args, values, io);
  } catch (err) {
    if (err instanceof AdmatrixProblem) {
      io.err(describeProblem(err));
      return 1;
    }
    if (
      err instanceof UsageError ||
      (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
    ) {
      io.err(`${(err as Error).message}\n\n${usage}\n`);
      return 2;
    }
    if (
      err instanceof SheetError ||
      err instanceof SyntaxError ||
      (err as { code?: string }).code === 'ENOENT'
    ) {
      io.err(`error: ${(err as Error).message}\n`);
      return 1;
    }
    if (err instanceof TypeError && /fetch failed/.test(err.message)) {
      io.err(
        `error: cannot reach ${io.env.ADMATRIX_URL} (${(err.cause as Error | undefined)?.message ?? err.message})\n`,
      );
      return 1;
    }
    throw err;
  }
}
