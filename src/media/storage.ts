import type { Readable } from 'node:stream';

export type StorageErrorCode = 'NOT_FOUND' | 'INVALID_KEY' | 'RANGE_NOT_SATISFIABLE' | 'TOO_LARGE';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  /** Object size, set with RANGE_NOT_SATISFIABLE so HTTP can answer `Content-Range: bytes *\/size`. */
  readonly size: number | undefined;

  constructor(
    message: string,
    code: StorageErrorCode,
    extra: { size?: number; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.size = extra.size;
  }
}

export interface PutOptions {
  /** Accepted for stores that keep it (object storage); the filesystem store does not. */
  contentType?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Reject (and keep nothing) once the stream grows past this many bytes. */
  maxBytes?: number | undefined;
}

export interface PutResult {
  /** Content address: `ab/cd/<sha256>`. */
  key: string;
  sha256: string;
  bytes: number;
}

/** Inclusive on both ends, as in an HTTP `Range: bytes=start-end` header. */
export interface ByteRange {
  start?: number | undefined;
  end?: number | undefined;
}

export interface Storage {
  putStream(
    stream: Readable | AsyncIterable<Uint8Array | string>,
    opts?: PutOptions,
  ): Promise<PutResult>;
  putFile(path: string, opts?: PutOptions): Promise<PutResult>;
  /**
   * Async so a missing key or an unsatisfiable range fails before any byte is sent.
   * An `end` past the object is clamped to its last byte, as HTTP does.
   */
  open(key: string, range?: ByteRange): Promise<Readable>;
  stat(key: string): Promise<{ bytes: number } | null>;
  /** Local path of an object, for stores that have one (lets ffmpeg read it in place). */
  path?(key: string): string;
  /** A time-limited GET link to the object itself, for stores that can sign one (S3). */
  presignedGet?(
    key: string,
    opts: { expiresInSeconds: number; contentType?: string },
  ): Promise<string>;
  /** Releases the store's connections. */
  close?(): void;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const KEY = /^([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

export function keyForSha256(sha256: string): string {
  if (!SHA256_HEX.test(sha256)) {
    throw new StorageError(`not a lowercase sha256 hex digest: ${sha256}`, 'INVALID_KEY');
  }
  return `${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

/** True only for well-formed content addresses, which also rules out path traversal. */
export function isStorageKey(key: string): boolean {
  const match = KEY.exec(key);
  return match !== null && match[3]!.startsWith(`${match[1]}${match[2]}`);
}

export function assertStorageKey(key: string): void {
  if (!isStorageKey(key)) {
    throw new StorageError(`not a storage key: ${JSON.stringify(key)}`, 'INVALID_KEY');
  }
}

/**
 * Resolves a range against an object size: the shared rule for every store, so the
 * HTTP layer sees the same errors whatever is behind it. Returns undefined for the
 * degenerate empty-object, whole-object read.
 */
export function resolveRange(
  range: ByteRange,
  size: number,
): { start: number; end: number } | undefined {
  const { start, end } = range;
  for (const [name, v] of [
    ['start', start],
    ['end', end],
  ] as const) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) {
      throw new StorageError(
        `range ${name} must be a non-negative integer, got ${v}`,
        'RANGE_NOT_SATISFIABLE',
        {
          size,
        },
      );
    }
  }
  if (start === undefined && end === undefined && size === 0) return undefined;
  const from = start ?? 0;
  const to = Math.min(end ?? size - 1, size - 1);
  if (from >= size || from > to) {
    throw new StorageError(
      `range ${from}-${end ?? ''} outside 0-${size - 1}`,
      'RANGE_NOT_SATISFIABLE',
      {
        size,
      },
    );
  }
  return { start: from, end: to };
}
