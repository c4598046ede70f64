import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SecretBox } from '../crypto/secrets.ts';
import type { Db } from '../db/client.ts';
import type { AssetKind } from '../db/schema.ts';
import type { MediaBody } from '../http/media-reply.ts';
import { ProblemError, problems } from '../http/problem.ts';
import { newId } from '../ids.ts';
import { type Media, MediaError, readImageHeader, type Storage } from '../media/index.ts';
import { createAudioInspector } from './audio.ts';
import { createDecodeSlots } from './decode-slots.ts';
import { verifyAssetLink } from './links.ts';
import * as repo from './repository.ts';
import {
  type AudioType,
  acceptedImageTypes,
  type ImageType,
  sniffAudio,
  sniffImage,
} from './sniff.ts';

/** The first bytes, which say what a file is, and its size. */
async function readHead(path: string) {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(64);
    await handle.read(head, 0, 64, 0);
    return { head, size: (await handle.stat()).size };
  } finally {
    await handle.close();
  }
}

export function toAssetResponse(row: repo.AssetRow) {
  return {
    id: row.id,
    kind: row.kind,
    content_type: row.contentType as ImageType | AudioType,
    width: row.width,
    height: row.height,
    duration_s: row.durationS,
    bytes: row.bytes,
    sha256: row.sha256,
    filename: row.filename,
    created_at: row.createdAt.toISOString(),
  };
}

const maxLogoSide = 4096;

type Inspected = {
  kind: AssetKind;
  contentType: ImageType | AudioType;
  width: number | null;
  height: number | null;
  durationS: number | null;
};

/** One part of a multipart form, as @fastify/multipart hands it over. */
export type UploadPart =
  | {
      type: 'file';
      fieldname: string;
      filename?: string;
      file: Readable & { truncated?: boolean };
    }
  | { type: 'field'; fieldname: string };

export function createAssetService(deps: {
  db: Db;
  media: Media;
  storage: Storage;
  tmpDir?: string;
  /** Image decodes at once in this process (ASSET_DECODE_CONCURRENCY); 2 unless told. */
  decodeConcurrency?: number;
  /** Verifies signed asset links (first frames fetched by video providers). */
  box?: SecretBox;
  /** Audio assets (spot audio beds): ASSET_AUDIO_MAX_BYTES and ASSET_AUDIO_MAX_SECONDS. */
  audio?: { maxBytes: number; maxSeconds: number };
  /** Logos above this many bytes are refused even when the form allows more (audio may). */
  logoMaxBytes?: number;
}) {
  const tmpRoot = deps.tmpDir ?? tmpdir();

  const slots = createDecodeSlots(deps.decodeConcurrency ?? 2);

  function tooBig(width: number, height: number, detail: string) {
    return problems.unprocessable(`Logos may be at most ${maxLogoSide} px on a side${detail}.`, [
      { path: 'file', message: `${width}x${height}` },
    ]);
  }

  const corrupt = () =>
    problems.unprocessable('The image is corrupt or truncated.', [
      { path: 'file', message: 'cannot be decoded' },
    ]);

  const audio = createAudioInspector({
    media: deps.media,
    slots,
    maxBytes: deps.audio?.maxBytes ?? 20 * 1024 * 1024,
    maxSeconds: deps.audio?.maxSeconds ?? 180,
  });

  /**
   * Every check happens on a private temp copy; only an accepted asset reaches storage. The
   * bytes decide what it is: an image is a logo, a recognised audio container an audio bed.
   */
  async function inspect(path: string): Promise<Inspected> {
    const { head, size } = await readHead(path);
    const sniffed = sniffImage(head);
    const sound = sniffed ? null : sniffAudio(head);
    if (sound) return { kind: 'audio', ...(await audio.inspect(path, sound, size)) };
    if (!sniffed || !(acceptedImageTypes as readonly string[]).includes(sniffed)) {
      throw problems.unsupportedMediaType(
        `Logos must be PNG, JPEG or WebP and audio MP3, AAC, WAV or Ogg; the file's bytes are ${sniffed ?? 'not a recognised image or audio'}.`,
      );
    }
    if (deps.logoMaxBytes !== undefined && size > deps.logoMaxBytes)
      throw problems.payloadTooLarge(`Logos may be at most ${deps.logoMaxBytes} bytes.`);
    // The declared size decides before any decode: decoding is what a pixel bomb costs.
    const header = await readImageHeader(path);
    if (!header) throw corrupt();
    if (header.width > maxLogoSide || header.height > maxLogoSide) {
      throw tooBig(header.width, header.height, ', as its header says (refused before decoding)');
    }
    try {
      const probed = await slots.run(async () => {
        // A full decode, not just the header: a truncated image would fail later, at
        // compositing. max_pixels stops a header that lied from costing more than a logo may.
        await deps.media.decodeCheck(path, { maxPixels: maxLogoSide * maxLogoSide });
        return deps.media.probe(path);
      });
      if (probed.width > maxLogoSide || probed.height > maxLogoSide) {
        throw tooBig(probed.width, probed.height, '');
      }
      return {
        kind: 'logo',
        contentType: sniffed as ImageType,
        width: probed.width,
        height: probed.height,
        durationS: null,
      };
    } catch (err) {
      if (err instanceof MediaError) throw corrupt();
      throw err;
    }
  }

  /**
   * Takes the one part named `file` and refuses anything else in the form: a second file or
   * a stray field would otherwise be dropped without a word, and the client would believe
   * every logo it sent was kept. The whole form is read before anything is inspected or
   * stored, so a refused form leaves nothing behind.
   */
  async function receive(parts: AsyncIterable<UploadPart>, tmp: string, limitBytes: number) {
    let filename: string | undefined;
    let received = false;
    for await (const part of parts) {
      if (part.fieldname !== 'file') {
        throw problems.badRequest('Send only the logo, as a multipart field named "file".', [
          { path: part.fieldname, message: 'unknown field: the form takes only "file"' },
        ]);
      }
      if (part.type !== 'file') {
        throw problems.badRequest('"file" must be a file, not a text field.', [
          { path: 'file', message: 'must be a file' },
        ]);
      }
      if (received) {
        throw problems.badRequest('Upload one logo per request; this form carried several.', [
          { path: 'file', message: 'one file per request' },
        ]);
      }
      received = true;
      filename = part.filename;
      await pipeline(part.file, createWriteStream(tmp));
      if (part.file.truncated) {
        // Audio is refused like any audio that breaks a limit, naming it; anything else is 413.
        if (sniffAudio((await readHead(tmp)).head)) throw audio.tooLarge(`more than ${limitBytes}`);
        throw problems.payloadTooLarge(`Uploads may be at most ${limitBytes} bytes.`);
      }
    }
    if (!received) {
      throw problems.badRequest('Send the logo as a multipart field named "file".', [
        { path: 'file', message: 'required' },
      ]);
    }
    return { filename };
  }

  return {
    async upload(tenantId: string, form: { parts: AsyncIterable<UploadPart>; limitBytes: number }) {
      await mkdir(tmpRoot, { recursive: true });
      const tmp = join(tmpRoot, `amx-upload-${randomUUID()}`);
      try {
        const file = await receive(form.parts, tmp, form.limitBytes);
        const facts = await inspect(tmp);
        const stored = await deps.storage.putFile(tmp, { contentType: facts.contentType });
        return await repo.insertOrGetAsset(deps.db, {
          id: newId('asset'),
          tenantId,
          kind: facts.kind,
          contentType: facts.contentType,
          width: facts.width,
          height: facts.height,
          durationS: facts.durationS,
          bytes: stored.bytes,
          sha256: stored.sha256,
          storageKey: stored.key,
          filename: file.filename?.slice(0, 255) ?? null,
        });
      } finally {
        await rm(tmp, { force: true });
      }
    },

    async get(tenantId: string, id: string) {
      const row = await repo.findAsset(deps.db, { tenantId, id });
      if (!row) throw problems.notFound('asset');
      return row;
    },

    /**
     * The bytes behind a signed link (src/assets/links.ts), without an API key: the signature
     * names the asset, so no tenant is needed. Forged and expired links are 403s.
     */
    async openSigned(p: { id: string; expires: number; signature: string }) {
      const verdict = deps.box ? verifyAssetLink(deps.box, p) : 'forged';
      if (verdict !== 'ok')
        throw new ProblemError({
          status: 403,
          slug: 'invalid-link',
          title: 'Forbidden',
          detail:
            verdict === 'expired' ? 'The link has expired.' : 'The link signature does not match.',
        });
      const row = await repo.findAssetById(deps.db, p.id);
      if (!row) throw problems.notFound('asset');
      // The row knows the size, type and hash, so a provider's HEAD costs no storage read.
      return {
        open: () => deps.storage.open(row.storageKey),
        size: row.bytes,
        range: null,
        contentType: row.contentType,
        sha256: row.sha256,
      } satisfies MediaBody;
    },

    /** Decodes running and waiting for a slot, for tests and metrics. */
    decodeSlots: slots.stats,

    /** Of these ids, the tenant's assets of `kind`: an audio asset is no logo, nor the reverse. */
    ownedIds: (tenantId: string, ids: string[], kind: AssetKind = 'logo') =>
      repo.ownedAssetIds(deps.db, { tenantId, ids, kind }),

    async byteSize(tenantId: string, id: string): Promise<number | null> {
      return (await repo.findAsset(deps.db, { tenantId, id }))?.bytes ?? null;
    },
  };
}

export type AssetService = ReturnType<typeof createAssetService>;
