import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CaptionFonts } from './binaries.ts';

const run = promisify(execFile);

function xml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );
}

/**
 * A fontconfig configuration that sees only the caption fonts, so libass falls back through
 * them alone (whatever else a machine has installed) and `sans-serif` means our first family.
 * libass takes its fallback list from `sans-serif`, sorted by this alias. Caches: the system's
 * (what the font packages' install built), then the user's for directories it lacks.
 */
function fontconfigXml(fonts: CaptionFonts): string {
  const dirs = fonts.dirs.map((d) => `  <dir>${xml(resolve(d))}</dir>`).join('\n');
  const families = fonts.families.map((f) => `<family>${xml(f)}</family>`).join('');
  return `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
${dirs}
  <cachedir>/var/cache/fontconfig</cachedir>
  <cachedir prefix="xdg">fontconfig</cachedir>
  <alias binding="same"><family>sans-serif</family><prefer>${families}</prefer></alias>
</fontconfig>
`;
}

/**
 * Writes the configuration under a per-user directory of the OS temp dir, named by its content,
 * so every process with the same fonts shares one file instead of leaving one each. The
 * directory must be ours and private: in a shared /tmp another user could have made it first.
 */
async function writeConfig(fonts: CaptionFonts): Promise<string> {
  const text = fontconfigXml(fonts);
  const uid = process.getuid?.() ?? 'user';
  const dir = join(tmpdir(), `admatrix-fonts-${uid}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  if (!st.isDirectory() || (typeof uid === 'number' && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new Error(`${dir} is not a private directory of this user`);
  }
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const file = join(dir, `fonts-${hash}.conf`);
  const tmp = `${file}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
  return file;
}

/** Sorted, disjoint, inclusive code point ranges. */
type Ranges = [number, number][];

/** Parses fontconfig's `%{charset}`: space-separated hex code points and `lo-hi` ranges. */
function parseCharset(text: string): Ranges {
  const out: Ranges = [];
  for (const token of text.trim().split(/\s+/)) {
    if (!token) continue;
    const [lo, hi] = token.split('-');
    const a = Number.parseInt(lo ?? '', 16);
    const b = hi === undefined ? a : Number.parseInt(hi, 16);
    if (Number.isFinite(a) && Number.isFinite(b)) out.push([a, b]);
  }
  return out;
}

function union(sets: Ranges[]): Ranges {
  const all = sets.flat().sort((x, y) => x[0] - y[0]);
  const out: Ranges = [];
  for (const [a, b] of all) {
    const last = out.at(-1);
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function covers(ranges: Ranges, cp: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = ranges[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Characters that draw nothing by design: spaces, controls, joiners and direction marks. */
const INVISIBLE = /^[\p{Z}\p{Cc}\p{Cf}]$/u;

export interface FontStack {
  /** Environment for an ffmpeg run that draws captions (points fontconfig at the stack). */
  env(): Promise<Record<string, string>>;
  /**
   * Distinct characters of `text` that no caption font has, in order of appearance. Empty
   * when coverage cannot be known (no `fc-list` on this machine): a warning, never a refusal.
   */
  missingGlyphs(text: string): Promise<string[]>;
}

interface FontStackOptions {
  /** fontconfig's lister; from PATH by default (Debian's `fontconfig` package). */
  fcListPath?: string | undefined;
  onCoverageError?: ((err: unknown) => void) | undefined;
}

/**
 * The configuration file is written once per stack, and the coverage table (the
 * union of every caption font's charset, read from fontconfig's cache) is built once, on first
 * use: later calls cost a binary search per character.
 */
export function createFontStack(fonts: CaptionFonts, opts: FontStackOptions = {}): FontStack {
  let configFile: Promise<string> | undefined;
  let coverage: Promise<Ranges | null> | undefined;

  const config = () => {
    configFile ??= writeConfig(fonts);
    // A failed write (full disk) is retried next time rather than remembered.
    configFile.catch(() => {
      configFile = undefined;
    });
    return configFile;
  };

  const env = async () => ({ FONTCONFIG_FILE: await config() });

  const table = () => {
    coverage ??= (async () => {
      try {
        const { stdout } = await run(opts.fcListPath ?? 'fc-list', ['--format', '%{charset}\n'], {
          env: { ...process.env, ...(await env()) },
          maxBuffer: 64 * 1024 * 1024,
          timeout: 60_000,
        });
        return union(stdout.split('\n').map(parseCharset));
      } catch (err) {
        opts.onCoverageError?.(err);
        return null;
      }
    })();
    return coverage;
  };

  return {
    env,
    async missingGlyphs(text) {
      const ranges = await table();
      if (!ranges) return [];
      const missing = new Set<string>();
      for (const ch of text) {
        if (INVISIBLE.test(ch)) continue;
        if (!covers(ranges, ch.codePointAt(0)!)) missing.add(ch);
      }
      return [...missing];
    },
  };
}
