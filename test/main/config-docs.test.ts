import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { baseEnvSchema } from '../../src/config.ts';

/**
 * The README's configuration table is the operator's list of settings: every key of the one env
 * schema has a row, and every name in the table is a setting (a renamed one leaves no stale row).
 */
const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');

function tableNames(markdown: string): Set<string> {
  const section = markdown.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? '';
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const first = line.split('|')[1] ?? '';
    for (const [, name] of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(name!);
  }
  return names;
}

describe('README configuration table', () => {
  const documented = tableNames(readme);
  const settings = Object.keys(baseEnvSchema.shape);

  it('lists every setting of src/config.ts', () => {
    expect(settings.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('lists nothing that is not a setting', () => {
    expect([...documented].filter((name) => !settings.includes(name))).toEqual([]);
  });
});
