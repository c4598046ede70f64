import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const hooks = fileURLToPath(new URL('../../src/main/hooks.ts', import.meta.url));

/** A fresh Node with the entry point's hooks, as `admatrix` runs. */
function withHooks(script: string): string {
  return execFileSync(
    process.execPath,
    ['--import', hooks, '--input-type=module', '--eval', script],
    { encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)) },
  );
}

describe('module hooks', () => {
  it("load drizzle-orm's CommonJS build, every entry and its named exports", () => {
    const out = withHooks(`
      const { sql, eq } = await import('drizzle-orm');
      const { drizzle } = await import('drizzle-orm/node-postgres');
      const { pgTable } = await import('drizzle-orm/pg-core');
      console.log(JSON.stringify({
        resolved: ['drizzle-orm', 'drizzle-orm/node-postgres', 'drizzle-orm/pg-core'].map((s) => import.meta.resolve(s)),
        exports: [typeof sql, typeof eq, typeof drizzle, typeof pgTable],
      }));`);
    const { resolved, exports } = JSON.parse(out);
    for (const url of resolved) expect(url).toMatch(/\/node_modules\/drizzle-orm\/.*\.cjs$/);
    expect(exports).toEqual(['function', 'function', 'function', 'function']);
  });

  it('leave every other package as it was', () => {
    // openai has both builds too; its import condition still picks the ES module.
    const out = withHooks(`console.log(import.meta.resolve('openai'))`);
    expect(out.trim()).toMatch(/\/node_modules\/openai\/index\.mjs$/);
  });
});
