/**
 * Lists exported symbols of src/ that no other file of src, test, bench or scripts names:
 * `node scripts/dead-exports.ts`. "unused" means the file does not use it either (delete it);
 * "local" means only its own file does (drop the export). Drizzle tables in src/db/schema.ts
 * are exported for drizzle-kit and are left out. A name match is textual, so a symbol sharing
 * its name with another one is not reported: this errs on the side of keeping.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const git = (args: string[]) => {
  try {
    return execFileSync('git', args, { encoding: 'utf8' });
  } catch {
    return ''; // git grep exits 1 when nothing matches
  }
};

const declaration =
  /^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|class|type|interface|enum)\s+([A-Za-z_$][\w$]*)/gm;

const found: string[] = [];
for (const file of git(['ls-files', 'src']).split('\n')) {
  if (!file.endsWith('.ts') || file === 'src/db/schema.ts') continue;
  const text = readFileSync(file, 'utf8');
  for (const [, name] of text.matchAll(declaration)) {
    const users = git(['grep', '-lw', name!, '--', 'src', 'test', 'bench', 'scripts'])
      .split('\n')
      .filter((f) => f && f !== file);
    if (users.length) continue;
    const inFile = text.match(new RegExp(`\\b${name!.replaceAll('$', '\\$')}\\b`, 'g'))!.length;
    found.push(`${file}\t${name}\t${inFile > 1 ? 'local' : 'unused'}`);
  }
}
console.log(found.join('\n'));
