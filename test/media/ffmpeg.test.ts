import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeFilterValue, sanitizeCaption, wrapCaptions } from '../../src/media/captions.ts';
import { createMedia, defaultMediaBinaries, MediaError } from '../../src/media/index.ts';
import { makeTempDir, testMedia } from './helpers.ts';

const media = testMedia();
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterAll(() => cleanup());

// A source that never ends: only a timeout or an abort stops it.
const endless = ['-f', 'lavfi', '-i', 'nullsrc=s=16x16:r=1000', '-f', 'null', '-'];

describe('runner', () => {
  it('kills a run that exceeds its timeout', async () => {
    const err = await media.runner.ffmpeg(endless, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err).toMatchObject({ code: 'TIMEOUT', tool: 'ffmpeg', exitCode: null });
  });

  it('kills a running process on abort and carries the reason', async () => {
    const controller = new AbortController();
    const run = media.runner.ffmpeg(endless, { signal: controller.signal });
    const reason = new Error('job cancelled');
    controller.abort(reason);
    const err = await run.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ABORTED', cause: reason });
  });

  it('does not start when already aborted', async () => {
    const err = await media.runner
      .ffmpeg(['-version'], { signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ABORTED' });
  });

  it('reports a missing binary', async () => {
    const broken = createMedia({
      ...defaultMediaBinaries(),
      ffprobePath: join(dir, 'no-such-ffprobe'),
    });
    const err = await broken.probe(join(dir, 'x.mp4')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SPAWN_FAILED', tool: 'ffprobe' });
    expect((err as Error).message).toContain('no-such-ffprobe');
  });

  it('keeps only the tail of stderr, and bounds captured stdout', async () => {
    const missing = join(dir, `${'long-name-'.repeat(20)}.mp4`);
    const err = await media.runner
      .ffmpeg(['-i', `file:${missing}`, '-f', 'null', '-'], { maxStderrBytes: 40 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FAILED', exitCode: 1 });
    const tail = (err as MediaError).stderrTail;
    expect(tail.length).toBeLessThanOrEqual(40);
    expect(tail).toContain('No such file or directory');

    const big = await media.runner
      .ffmpeg(['-f', 'lavfi', '-i', 'color=s=64x64:d=1', '-f', 'rawvideo', 'pipe:1'], {
        captureStdout: true,
        maxStdoutBytes: 10_000,
      })
      .catch((e: unknown) => e);
    expect(big).toMatchObject({ code: 'OUTPUT_TOO_LARGE' });
  });
});

describe('probe', () => {
  it('fails with the reason ffprobe gave on a corrupt file', async () => {
    const junk = join(dir, 'junk.mp4');
    await writeFile(junk, 'this is not a video\n'.repeat(200));
    const err = await media.probe(junk).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err).toMatchObject({ code: 'FAILED', tool: 'ffprobe', exitCode: 1 });
    expect((err as Error).message).toMatch(/junk\.mp4: Invalid data found when processing input/);
  });

  it('refuses a file without a picture', async () => {
    const m4a = join(dir, 'tone.m4a');
    await media.runner.ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'sine=d=0.2',
      '-c:a',
      'aac',
      '-y',
      `file:${m4a}`,
    ]);
    await expect(media.probe(m4a)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('caption text', () => {
  it('wraps on words, splits overlong words, and ends a cut with an ellipsis', () => {
    expect(wrapCaptions(['the quick brown fox'], 10, 5)).toEqual(['the quick', 'brown fox']);
    expect(wrapCaptions(['abcdefghijklmnopqrstuvwxyz'], 10, 5)).toEqual([
      'abcdefghij',
      'klmnopqrst',
      'uvwxyz',
    ]);
    expect(wrapCaptions(['one two three four five six'], 9, 2)).toEqual(['one two', 'three…']);
    expect(wrapCaptions(['  ', 'a'], 10, 5)).toEqual(['a']);
  });

  it('counts graphemes, not UTF-16 units, and wide CJK characters as two', () => {
    expect(wrapCaptions(['😀😀😀😀'], 2, 5)).toEqual(['😀😀', '😀😀']);
    expect(wrapCaptions(['東京서울東京'], 6, 5)).toEqual(['東京서', '울東京']);
    // e + combining acute, and an Arabic letter with its vowel mark, never split.
    expect(wrapCaptions(['e\u0301e\u0301e\u0301'], 2, 5)).toEqual(['e\u0301e\u0301', 'e\u0301']);
    expect(wrapCaptions(['بَبَبَ'], 2, 5)).toEqual(['بَبَ', 'بَ']);
  });

  it('flattens newlines and control characters', () => {
    expect(sanitizeCaption(' a\nb\r\n\tc\u0000d\u2028e ')).toBe('a b c d e');
  });

  it('escapes filter values at both levels ffmpeg unescapes', () => {
    expect(escapeFilterValue('/plain/path.ttf')).toBe('/plain/path.ttf');
    // As in ffmpeg's filter docs: ':' gets one backslash for the option list, which the
    // graph level then escapes itself; a quote needs escaping at both levels.
    expect(escapeFilterValue('a:b')).toBe('a\\\\:b');
    expect(escapeFilterValue("it's")).toBe("it\\\\\\'s");
    expect(escapeFilterValue('a,b')).toBe('a\\,b');
  });
});
