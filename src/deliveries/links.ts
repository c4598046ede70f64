import type { SecretBox } from '../crypto/secrets.ts';
import type { Db } from '../db/client.ts';
import { ProblemError, problems } from '../http/problem.ts';
import type { VariantService } from '../variants/service.ts';
import { variantTenant } from './repository.ts';

type MediaKind = 'video' | 'thumbnail';

const mediaPath = (id: string, what: MediaKind) => `/v1/media/variants/${id}/${what}`;

/** What is signed: the method, the exact path and the expiry, so no part can be swapped. */
const signedText = (path: string, expires: number) => `GET ${path}\n${expires}`;

const forbidden = (detail: string) =>
  new ProblemError({ status: 403, slug: 'invalid-link', title: 'Forbidden', detail });

/**
 * Time-limited download links that work without an API key, for ad platforms that fetch the
 * media themselves: HMAC-SHA256 (the secret box's signing key) over path and expiry.
 */
export function createLinkService(deps: {
  db: Db;
  box: SecretBox;
  variants: Pick<VariantService, 'get' | 'media'>;
  ttlSeconds: number;
}) {
  const { box } = deps;

  function sign(id: string, what: MediaKind, expires: number) {
    const path = mediaPath(id, what);
    return `${path}?expires=${expires}&signature=${box.sign(signedText(path, expires))}`;
  }

  return {
    async create(tenantId: string, id: string, opts: { baseUrl: string; ttlSeconds?: number }) {
      const row = await deps.variants.get(tenantId, id);
      if (!row.video_key || !row.thumbnail_key)
        throw problems.conflict(`The variant has no media yet (status ${row.status}).`);
      const expires = Math.floor(Date.now() / 1000) + (opts.ttlSeconds ?? deps.ttlSeconds);
      return {
        video_url: `${opts.baseUrl}${sign(id, 'video', expires)}`,
        thumbnail_url: `${opts.baseUrl}${sign(id, 'thumbnail', expires)}`,
        expires_at: new Date(expires * 1000).toISOString(),
      };
    },

    /** Checks the signature before the clock, so a changed expiry reads as tampering. */
    async open(
      p: { id: string; what: MediaKind; expires: number; signature: string },
      range: string | undefined,
    ) {
      if (!box.verify(signedText(mediaPath(p.id, p.what), p.expires), p.signature))
        throw forbidden('The link signature does not match.');
      const remaining = p.expires - Math.floor(Date.now() / 1000);
      if (remaining <= 0) throw forbidden('The link has expired; ask for a new one.');
      const tenantId = await variantTenant(deps.db, p.id);
      if (!tenantId) throw problems.notFound('variant');
      return {
        media: await deps.variants.media(tenantId, p.id, p.what, range, { redirect: true }),
        remaining,
      };
    },
  };
}

export type LinkService = ReturnType<typeof createLinkService>;
