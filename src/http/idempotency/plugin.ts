import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { SecretBox } from '../../crypto/secrets.ts';
import type { Db, DbOrTx } from '../../db/client.ts';
import { authOf } from '../auth.ts';
import { problems } from '../problem.ts';
import * as repo from './repository.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** POST routes accept Idempotency-Key by default; 'required' makes it mandatory. */
    idempotency?: 'required' | 'optional' | 'off' | 'refused';
  }
  interface FastifyRequest {
    idempotency: IdempotencyHandle | null;
    /**
     * What identifies a body that is not in request.body (a multipart file's sha256, hashed as
     * it streamed in a preValidation hook), so the same key with another file is a 422.
     */
    bodyFingerprint: string | null;
  }
}

export interface IdempotencyHandle {
  readonly key: string;
  /**
   * Stores the response inside the caller's own transaction, so the effect and the record
   * commit together and a crash between them cannot lead to a second execution.
   */
  completeIn(tx: DbOrTx, status: number, body: unknown): Promise<void>;
}

type Handle = IdempotencyHandle & { completedInTx: boolean };

const keyPattern = /^[\x21-\x7e]{1,255}$/;

/**
 * JSON with sorted keys, so the same body sent with another key order is the same request.
 * Iterative (a stack of values and literal text), so no body can overflow the call stack.
 */
export function canonical(root: unknown): string {
  const out: string[] = [];
  const todo: ({ text: string } | { value: unknown })[] = [{ value: root }];
  while (todo.length > 0) {
    const item = todo.pop() as { text: string } | { value: unknown };
    if ('text' in item) {
      out.push(item.text);
      continue;
    }
    const value = item.value;
    const next: ({ text: string } | { value: unknown })[] = [];
    if (Array.isArray(value)) {
      next.push({ text: '[' });
      value.forEach((v, i) => {
        if (i > 0) next.push({ text: ',' });
        next.push({ value: v });
      });
      next.push({ text: ']' });
    } else if (Buffer.isBuffer(value)) {
      out.push(value.toString('base64'));
    } else if (value && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      next.push({ text: '{' });
      entries.forEach(([k, v], i) => {
        next.push({ text: `${i > 0 ? ',' : ''}${JSON.stringify(k)}:` });
        next.push({ value: v });
      });
      next.push({ text: '}' });
    } else {
      out.push(JSON.stringify(value) ?? 'null');
    }
    for (let i = next.length - 1; i >= 0; i--) todo.push(next[i] as { text: string });
  }
  return out.join('');
}

export async function registerIdempotency(
  app: FastifyInstance,
  deps: { db: Db; box: SecretBox; ttlHours: number; lockMs?: number },
) {
  // Every stored response is sealed, not only those known to carry a secret (a webhook
  // endpoint's whsec_…, shown once): a route added later cannot forget to ask, and AES-GCM on a
  // few KB costs microseconds. Rows stored in plaintext before this stay readable for their TTL:
  // a JSON body never starts with the box's "v1." prefix.
  const seal = (body: string) => deps.box.seal(body);
  const open = (stored: string) => (stored.startsWith('v1.') ? deps.box.open(stored) : stored);
  const ttlMs = deps.ttlHours * 3_600_000;
  const lockMs = deps.lockMs ?? 60_000;
  app.decorateRequest('idempotency', null);
  app.decorateRequest('bodyFingerprint', null);

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    const mode = request.routeOptions.config.idempotency ?? 'optional';
    if (mode === 'off') return;
    const raw = request.headers['idempotency-key'];
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (mode === 'refused' && key !== undefined) {
      throw problems.badRequest(
        'This endpoint is idempotent by content and takes no Idempotency-Key: send it without one.',
        [{ path: 'headers.idempotency-key', message: 'not accepted on this endpoint' }],
      );
    }
    if (mode === 'refused') return;
    if (key === undefined) {
      if (mode === 'required') {
        throw problems.badRequest('This endpoint requires an Idempotency-Key header.', [
          { path: 'headers.idempotency-key', message: 'required' },
        ]);
      }
      return;
    }
    if (!keyPattern.test(key)) {
      throw problems.badRequest('Idempotency-Key must be 1–255 visible ASCII characters.', [
        { path: 'headers.idempotency-key', message: 'invalid' },
      ]);
    }
    const { tenantId } = authOf(request);
    const route = request.routeOptions.url ?? request.url;
    const requestHash = createHash('sha256')
      .update(
        `${request.method} ${route}\n${canonical(request.params)}\n${canonical(request.body)}${
          request.bodyFingerprint === null ? '' : `\n${request.bodyFingerprint}`
        }`,
      )
      .digest('hex');
    const claim = {
      tenantId,
      key,
      method: request.method,
      path: request.url,
      requestHash,
      lockMs,
      ttlMs,
    };
    if (!(await repo.claimKey(deps.db, claim))) {
      const existing = await repo.findKey(deps.db, { tenantId, key });
      // Purged between the failed claim and the read: claim again rather than guess.
      if (!existing) {
        if (!(await repo.claimKey(deps.db, claim)))
          throw problems.conflict('Idempotency-Key is in use; retry.');
      } else if (existing.requestHash !== requestHash) {
        throw problems.unprocessable(
          'This Idempotency-Key was used with a different request (endpoint or body) in the last 24 h.',
          [{ path: 'headers.idempotency-key', message: 'reused with a different request' }],
        );
      } else if (existing.state === 'in_flight') {
        throw problems.conflict(
          'A request with this Idempotency-Key is still being processed; retry shortly.',
        );
      } else {
        reply
          .headers({ ...(existing.responseHeaders ?? {}), 'idempotent-replayed': 'true' })
          .code(existing.responseStatus ?? 200);
        return reply.send(existing.responseBody ? open(existing.responseBody) : '');
      }
    }

    const handle: Handle = {
      key,
      completedInTx: false,
      async completeIn(tx, status, body) {
        await repo.completeKey(tx, {
          tenantId,
          key,
          status,
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: seal(JSON.stringify(body)),
        });
        handle.completedInTx = true;
      },
    };
    request.idempotency = handle;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const handle = request.idempotency as Handle | null;
    if (!handle) return payload;
    request.idempotency = null;
    const { tenantId } = authOf(request);
    // Only a success is stored. A 5xx is our failure, and a 4xx from the handler (404, 409, 422…)
    // wrote nothing (every route is all or nothing), so there is no effect to protect: the key
    // is freed and the corrected retry runs. Stripe does the same for requests that fail before
    // executing. The key's own 409/422 answers never get here: they come before the claim.
    if (reply.statusCode >= 400 && !handle.completedInTx) {
      await repo.releaseKey(deps.db, { tenantId, key: handle.key });
      return payload;
    }
    if (handle.completedInTx) return payload;
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) {
      await repo.releaseKey(deps.db, { tenantId, key: handle.key });
      return payload;
    }
    const contentType = reply.getHeader('content-type');
    await repo.completeKey(deps.db, {
      tenantId,
      key: handle.key,
      status: reply.statusCode,
      headers: contentType ? { 'content-type': String(contentType) } : {},
      body: seal(payload.toString()),
    });
    return payload;
  });
}
