import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { type TestApp, waitFor } from '../helpers/app.ts';
import { setupCampaign, startRun, stuckVariants, variantsOf } from '../helpers/scenario.ts';

export interface Hook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the body was complete. */
  at: number;
  /** What the receiver answered. */
  status: number;
}

export type HookHandler = (hook: Omit<Hook, 'status'>) => {
  status: number;
  headers?: Record<string, string>;
  body?: string;
};

export interface HookReceiver {
  port: number;
  url(path: string): string;
  hooks: Hook[];
  /** Requests to this path, in arrival order. */
  to(path: string): Hook[];
  handle(handler: HookHandler): void;
  close(): Promise<void>;
  /** Listens again on the same port after close(), as a receiver back from an outage. */
  reopen(): Promise<void>;
}

/** A loopback receiver that records every webhook and answers as the test says (204 default). */
export async function startHookReceiver(): Promise<HookReceiver> {
  const hooks: Hook[] = [];
  let handler: HookHandler = () => ({ status: 204 });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hook = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      const answer = handler(hook);
      hooks.push({ ...hook, status: answer.status });
      res.writeHead(answer.status, answer.headers).end(answer.body);
    });
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    hooks,
    to: (path) => hooks.filter((h) => h.path === path),
    handle(h) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    reopen: async () => {
      await listen(port);
    },
  };
}

/**
 * Waits for every variant of the run to settle and the run to be completed. Two variants
 * finishing in overlapping transactions can each see the other unsettled and leave the run
 * open; the reconciler closes it, as housekeeping does every cycle in a deployment.
 */
export async function settledRun(t: TestApp, runId: string, reconcile: () => Promise<unknown>) {
  const settled = ['ready', 'failed', 'blocked', 'cancelled'];
  let seen: Awaited<ReturnType<typeof variantsOf>> = [];
  const variants = await waitFor(
    async () => {
      seen = await variantsOf(t, runId);
      return seen.every((v) => settled.includes(v.status)) ? seen : undefined;
    },
    {
      timeoutMs: 50_000,
      // A stall in CI should say where each variant stopped, not only that it did.
      what: () =>
        `the variants of ${runId} to settle; last seen: ${seen
          .map((v) => `${v.id} ${v.status} attempts=${v.attempts} ${v.error_code ?? ''}`.trim())
          .join(', ')}`,
    },
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${await stuckVariants(t, runId)}`);
  });
  await waitFor(async () => {
    const { rows } = await t.testDb.pool.query('SELECT status FROM runs WHERE id = $1', [runId]);
    if (rows[0]?.status === 'completed') return true;
    await reconcile();
    return undefined;
  });
  return variants;
}

/** A run on the local provider (real ffmpeg), settled: its variants are ready. */
export async function readyVariants(
  t: TestApp,
  auth: string,
  opts: {
    levels: Record<string, string[]>;
    key: string;
    requireApproval?: boolean;
    reconcile: () => Promise<unknown>;
  },
) {
  const s = await setupCampaign(t, auth, {
    levels: opts.levels,
    video: { provider: 'local', seconds: 1, size: '320x180' },
  });
  if (opts.requireApproval) {
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/v1/campaigns/${s.campaignId}`,
      headers: { authorization: auth },
      payload: { require_approval: true },
    });
    if (res.statusCode !== 200) throw new Error(`patch: ${res.body}`);
  }
  const run = await startRun(t, auth, { ...s, key: opts.key });
  const variants = await settledRun(t, run.id, opts.reconcile);
  return { ...s, runId: run.id, variants };
}

/** Writes an event the way the pipeline does (its own transaction, through the outbox). */
export async function recordTestEvent(
  t: TestApp,
  tenantId: string,
  type = 'variant.ready',
  data: Record<string, unknown> = { variant_id: 'var_test' },
) {
  const { recordEvent } = await import('../../src/events/outbox.ts');
  return t.testDb.db.transaction((tx) =>
    recordEvent(tx, { tenantId, type: type as 'variant.ready', data }),
  );
}

export async function whoAmI(t: TestApp, auth: string) {
  const res = await t.app.inject({
    method: 'GET',
    url: '/v1/me',
    headers: { authorization: auth },
  });
  return res.json() as { tenant_id: string; key_id: string };
}

/** Standard Webhooks verification of a received request, with the receiver-side library. */
export function verifies(req: { body: string; headers: IncomingHttpHeaders }, secret: string) {
  try {
    new Webhook(secret).verify(req.body, {
      'webhook-id': String(req.headers['webhook-id']),
      'webhook-timestamp': String(req.headers['webhook-timestamp']),
      'webhook-signature': String(req.headers['webhook-signature']),
    });
    return true;
  } catch {
    return false;
  }
}
