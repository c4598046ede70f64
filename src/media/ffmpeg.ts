import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

export type MediaErrorCode =
  | 'FAILED'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'SPAWN_FAILED'
  | 'OUTPUT_TOO_LARGE'
  | 'INVALID_INPUT'
  | 'INVALID_OUTPUT';

interface MediaErrorInit {
  code: MediaErrorCode;
  tool?: string | undefined;
  exitCode?: number | null | undefined;
  stderrTail?: string | undefined;
  cause?: unknown;
}

export class MediaError extends Error {
  override readonly name = 'MediaError';
  readonly code: MediaErrorCode;
  readonly tool: string | undefined;
  readonly exitCode: number | null;
  /** Last bytes of the tool's stderr: what ffmpeg said right before failing. */
  readonly stderrTail: string;

  constructor(message: string, init: MediaErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.tool = init.tool;
    this.exitCode = init.exitCode ?? null;
    this.stderrTail = init.stderrTail ?? '';
  }
}

export interface RunOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  /** Collect stdout (ffprobe JSON, raw frames); otherwise it is discarded. */
  captureStdout?: boolean | undefined;
  maxStdoutBytes?: number | undefined;
  maxStderrBytes?: number | undefined;
  /** Added to the inherited environment (e.g. FONTCONFIG_FILE for caption fonts). */
  env?: Record<string, string> | undefined;
}

export interface RunResult {
  stdout: Buffer;
  stderrTail: string;
}

export type Run = (args: readonly string[], opts?: RunOptions) => Promise<RunResult>;

const DEFAULT_MAX_STDOUT = 64 * 1024 * 1024;
const DEFAULT_MAX_STDERR = 8 * 1024;

/** Keeps only the newest bytes, so a chatty ffmpeg cannot grow memory without bound. */
class TailBuffer {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    // Compact lazily (at twice the limit) to avoid re-slicing on every chunk.
    if (this.#size > this.#limit * 2) {
      const all = Buffer.concat(this.#chunks);
      const kept = all.subarray(all.length - this.#limit);
      this.#chunks = [kept];
      this.#size = kept.length;
    }
  }

  toString(): string {
    const all = Buffer.concat(this.#chunks);
    return all.subarray(Math.max(0, all.length - this.#limit)).toString('utf8');
  }
}

function lastLines(text: string, count: number): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  return lines.slice(-count).join(' | ');
}

/** Spawns a binary (never through a shell) and settles once it has exited. */
function runProcess(
  bin: string,
  args: readonly string[],
  opts: RunOptions & { tool: string },
): Promise<RunResult> {
  const { tool, signal } = opts;
  return new Promise<RunResult>((resolvePromise, reject) => {
    if (signal?.aborted) {
      reject(
        new MediaError(`${tool} aborted before start`, {
          code: 'ABORTED',
          tool,
          cause: signal.reason,
        }),
      );
      return;
    }
    const stderr = new TailBuffer(opts.maxStderrBytes ?? DEFAULT_MAX_STDERR);
    const stdout: Buffer[] = [];
    const maxStdout = opts.maxStdoutBytes ?? DEFAULT_MAX_STDOUT;
    let stdoutBytes = 0;
    let settled = false;
    let killedFor: { code: MediaErrorCode; message: string; cause?: unknown } | undefined;

    const child = spawn(bin, args, {
      stdio: ['ignore', opts.captureStdout ? 'pipe' : 'ignore', 'pipe'],
      windowsHide: true,
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });

    const kill = (reason: NonNullable<typeof killedFor>) => {
      if (killedFor || settled) return;
      killedFor = reason;
      // SIGKILL: a graceful ffmpeg shutdown would keep encoding buffered frames; callers discard output anyway.
      child.kill('SIGKILL');
    };
    const onAbort = () =>
      kill({ code: 'ABORTED', message: `${tool} aborted`, cause: signal?.reason });
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      opts.timeoutMs !== undefined && opts.timeoutMs > 0
        ? setTimeout(
            () =>
              kill({ code: 'TIMEOUT', message: `${tool} timed out after ${opts.timeoutMs} ms` }),
            opts.timeoutMs,
          )
        : undefined;

    const finish = () => {
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };

    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdout?.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) {
        kill({ code: 'OUTPUT_TOO_LARGE', message: `${tool} wrote more than ${maxStdout} bytes` });
        return;
      }
      stdout.push(chunk);
    });

    child.once('error', (err) => {
      if (settled) return;
      finish();
      reject(
        new MediaError(`could not start ${tool} (${bin}): ${err.message}`, {
          code: 'SPAWN_FAILED',
          tool,
          cause: err,
        }),
      );
    });

    child.once('close', (code, sig) => {
      if (settled) return;
      finish();
      const tail = stderr.toString();
      if (killedFor) {
        reject(
          new MediaError(killedFor.message, {
            code: killedFor.code,
            tool,
            exitCode: code,
            stderrTail: tail,
            cause: killedFor.cause,
          }),
        );
        return;
      }
      if (code === 0) {
        resolvePromise({ stdout: Buffer.concat(stdout), stderrTail: tail });
        return;
      }
      const how = code === null ? `was killed by ${sig ?? 'a signal'}` : `exited with code ${code}`;
      const said = lastLines(tail, 3);
      reject(
        new MediaError(`${tool} ${how}${said ? `: ${said}` : ''}`, {
          code: 'FAILED',
          tool,
          exitCode: code,
          stderrTail: tail,
        }),
      );
    });
  });
}

interface RunnerDeps {
  ffmpegPath: string;
  ffprobePath: string;
  timeoutMs?: number | undefined;
  probeTimeoutMs?: number | undefined;
}

export interface Runner {
  ffmpeg: Run;
  ffprobe: Run;
}

export function createRunner(deps: RunnerDeps): Runner {
  const ffmpegTimeout = deps.timeoutMs ?? 10 * 60_000;
  const probeTimeout = deps.probeTimeoutMs ?? 30_000;
  return {
    ffmpeg: (args, opts = {}) =>
      runProcess(deps.ffmpegPath, ['-nostdin', '-hide_banner', '-loglevel', 'error', ...args], {
        ...opts,
        timeoutMs: opts.timeoutMs ?? ffmpegTimeout,
        tool: 'ffmpeg',
      }),
    ffprobe: (args, opts = {}) =>
      runProcess(deps.ffprobePath, ['-hide_banner', '-loglevel', 'error', ...args], {
        ...opts,
        timeoutMs: opts.timeoutMs ?? probeTimeout,
        captureStdout: true,
        tool: 'ffprobe',
      }),
  };
}

/**
 * The `file:` protocol stops ffmpeg from reading a name like `a:b.mp4` as a URL scheme
 * or a leading `-` as an option.
 */
export function fileArg(path: string): string {
  return `file:${resolve(path)}`;
}

/**
 * Demuxers an input may be opened with: the containers providers deliver and the image
 * formats logos come in. Uploads are untrusted, and demuxers such as hls or concat follow
 * references inside a file, so anything else is refused before it can read other files.
 */
const INPUT_FORMATS = 'mov,matroska,png_pipe,jpeg_pipe,webp_pipe,gif,image2,mp3,aac,wav,ogg';

/** Options that must precede `-i` (or the file, for ffprobe) of any untrusted input. */
export function untrustedInputOptions(): string[] {
  return ['-protocol_whitelist', 'file', '-format_whitelist', INPUT_FORMATS];
}

export function inputArgs(path: string): string[] {
  return [...untrustedInputOptions(), '-i', fileArg(path)];
}

/**
 * Writes through a hidden sibling temp file and renames it into place, so `out` is
 * either absent or complete, even when ffmpeg is killed halfway.
 */
export async function writeAtomically<T>(
  out: string,
  write: (tmp: string) => Promise<T>,
): Promise<T> {
  const target = resolve(out);
  const tmp = join(dirname(target), `.${basename(target)}.${randomUUID()}.part`);
  try {
    const result = await write(tmp);
    await rename(tmp, target);
    return result;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Options every encode shares; bitexact keeps encoder/version strings out so bytes repeat. */
export interface EncoderSettings {
  preset: string;
  crf: number;
  /** Fixed rather than per-core: x264 output depends on its thread count. */
  threads: number;
}

export const DEFAULT_ENCODER: EncoderSettings = { preset: 'veryfast', crf: 20, threads: 2 };

export function h264Args(enc: EncoderSettings): string[] {
  return [
    '-c:v',
    'libx264',
    '-preset',
    enc.preset,
    '-crf',
    String(enc.crf),
    '-pix_fmt',
    'yuv420p',
    '-profile:v',
    'high',
    '-threads',
    String(enc.threads),
    '-flags:v',
    '+bitexact',
  ];
}

export function mp4MuxArgs(): string[] {
  return [
    '-map_metadata',
    '-1',
    '-map_chapters',
    '-1',
    '-fflags',
    '+bitexact',
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
  ];
}

/** Encodes H.264 into an MP4 at `out`, atomically: `args` are the inputs, graph and maps. */
export function encodeMp4(
  ctx: { runner: Runner; encoder: EncoderSettings },
  out: string,
  args: readonly string[],
  opts: RunOptions,
): Promise<RunResult> {
  return writeAtomically(out, (tmp) =>
    ctx.runner.ffmpeg(
      [...args, ...h264Args(ctx.encoder), ...mp4MuxArgs(), '-y', fileArg(tmp)],
      opts,
    ),
  );
}
