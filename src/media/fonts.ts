import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
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
export function fontconfigXml(fonts: CaptionFonts): string {
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

/** Sorted, disjoint, inclusive code point ranges. */
type Ranges = [number, number][];

/** Parses fontconfig's `%{charset}`: space-separated hex code points and `lo-hi` ranges. */
export function parseCharset(text: string): Ranges {
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

export interface FontStackOptions {
  /** fontconfig's lister; from PATH by default (Debian's `fontconfig` package). */
  fcListPath?: string | undefined;
  onCoverageError?: ((err: unknown) => void) | undefined;
}

/**
 * The configuration file is written once, to a private temp dir, and the coverage table (the
 * union of every caption font's charset, read from fontconfig's cache) is built once, on first
 * use: later calls cost a binary search per character.
 */
export function createFontStack(fonts: CaptionFonts, opts: FontStackOptions = {}): FontStack {
  let configFile: Promise<string> | undefined;
  let coverage: Promise<Ranges | null> | undefined;

  const config = () => {
    configFile ??= (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'admatrix-fonts-'));
      const file = join(dir, 'fonts.conf');
      await writeFile(file, fontconfigXml(fonts), { mode: 0o600 });
      return file;
    })();
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
