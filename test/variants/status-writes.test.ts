// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the planted violations are SQL template text
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { variantStatuses } from '../../src/db/schema.ts';

/**
 * Every variant status change goes through src/variants/lifecycle.ts: this scans src/ for any
 * other statement that writes `variants.status`. The fan-out may insert new rows, and only with
 * the initial status it takes from the lifecycle module.
 */
const lifecycle = 'src/variants/lifecycle.ts';
const fanOut = 'src/runs/fanout.ts';

const statusLiteral = new RegExp(`'(${variantStatuses.join('|')})'`);

/** From `at` to the end of the statement around it: the template literal or call it sits in. */
function statementFrom(text: string, at: number) {
  const rest = text.slice(at, at + 2_000);
  const end = rest.search(/`|;\s*$/m);
  return end < 0 ? rest : rest.slice(0, end);
}

function statusWrites(file: string, text: string): string[] {
  if (file === lifecycle) return [];
  const found: string[] = [];
  const line = (at: number) => text.slice(0, at).split('\n').length;
  for (const m of text.matchAll(/\bUPDATE\s+"?variants"?\b/gi)) {
    const statement = statementFrom(text, m.index);
    const set = statement.split(/\bWHERE\b|\bRETURNING\b/i)[0]!;
    if (/\bSET\b[\s\S]*\bstatus\b/i.test(set) || /\bstatus\s*=/.test(set))
      found.push(`${file}:${line(m.index)}: UPDATE variants … status`);
  }
  for (const m of text.matchAll(/\.update\(\s*(schema\.)?variants\s*\)/g)) {
    const statement = statementFrom(text, m.index);
    if (/\bstatus\b/.test(statement))
      found.push(`${file}:${line(m.index)}: .update(variants) status`);
  }
  const inserts = [
    /\bINSERT\s+INTO\s+"?variants"?\b/gi,
    /\bCOPY\s+"?variants"?\b/gi,
    /\.insert\(\s*(schema\.)?variants\s*\)/g,
    /copyRows\([^,]+,\s*'variants'/g,
  ];
  for (const pattern of inserts) {
    for (const m of text.matchAll(pattern)) {
      // The fan-out writes new rows, and may name no status but the lifecycle's initial one.
      if (file === fanOut && !statusLiteral.test(text)) continue;
      found.push(`${file}:${line(m.index)}: inserts variants`);
    }
  }
  return found;
}

function sourceFiles() {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'src'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f.endsWith('.ts'));
}

describe('variants.status', () => {
  it('is written by src/variants/lifecycle.ts only', () => {
    const files = sourceFiles();
    expect(files).toContain(lifecycle);
    const writes = files.flatMap((f) => statusWrites(f, readFileSync(f, 'utf8')));
    expect(writes).toEqual([]);
  });

  it('the scan finds a write outside the lifecycle module', () => {
    const planted = {
      sql: "await tx.execute(sql`UPDATE variants SET progress = 0, status = 'queued' WHERE id = ${id}`);",
      aliased:
        'sql`UPDATE variants v SET status = ${to} FROM run_variants rv WHERE v.id = rv.variant_id`',
      multiline:
        'sql`\n  UPDATE variants\n  SET updated_at = now(),\n      status = ${s}\n  WHERE id = ${id}`',
      drizzle: "await db.update(variants).set({ status: 'failed' }).where(eq(variants.id, id));",
      insert: "sql`INSERT INTO variants (id, status) VALUES (${id}, 'ready')`",
      copy: "await copyRows(client, 'variants', ['id', 'status'], rows);",
    };
    for (const [name, code] of Object.entries(planted))
      expect(statusWrites('src/x/service.ts', code), name).toHaveLength(1);
    expect(statusWrites(lifecycle, planted.sql)).toEqual([]);
    // The fan-out may COPY new rows, but not with a status of its own choosing.
    expect(statusWrites(fanOut, planted.copy)).toEqual([]);
    expect(statusWrites(fanOut, `${planted.copy}\nrow.push('ready');`)).toHaveLength(1);
  });

  it('the scan leaves writes of other columns alone', () => {
    const other = [
      'sql`UPDATE variants SET attempts = attempts + 1 WHERE id = ${id} AND status = ${s}`',
      "sql`UPDATE variants SET review_reason = ${r} WHERE status = 'ready'`",
      'sql`UPDATE variants SET provider_prompt = coalesce(provider_prompt, ${p}) WHERE id = ${id} RETURNING status`',
    ];
    for (const code of other) expect(statusWrites('src/x/service.ts', code), code).toEqual([]);
  });
});
