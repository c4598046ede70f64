import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { rulesOf, viewAtCreate } from './behaviour.ts';
import { sendContent } from './content.ts';
import { WebhookDispatcher } from './dispatcher.ts';
import { ApiError, invalid, notFound, refusal, sendApiError } from './errors.ts';
import { parseSubmission } from './parse.ts';
import { VideoStore } from './store.ts';
import type {
  CreateCall,
  FakeVideoRecord,
  FakeVideoServer,
  FakeVideoServerOptions,
  InputReference,
} from './types.ts';

export const DEFAULT_SECONDS = ['4', '8', '12'] as const;
export const DEFAULT_SIZES = ['720x1280', '1280x720', '1024x1792', '1792x1024'] as const;

function listOf(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(', ');
}

function allowed(param: string, value: string, values: readonly string[] | null): void {
  if (values && !values.includes(value)) {
    throw invalid(
      `Invalid value: '${value}'. Supported values are: ${listOf(values)}.`,
      param,
      'invalid_value',
    );
  }
}

const REFERENCE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];

/** `input_reference` as a file: PNG, JPEG or WebP, by its bytes, at exactly the video's size. */
function checkReference(ref: InputReference | undefined, size: string): void {
  if (ref?.kind !== 'file') return;
  const { image } = ref;
  if (!REFERENCE_TYPES.includes(ref.mimetype) || image.type !== ref.mimetype) {
    throw invalid(
      `Invalid file format for 'input_reference': expected an image/png, image/jpeg or image/webp file, got ${ref.mimetype}${image.type && image.type !== ref.mimetype ? ` containing ${image.type}` : ''}.`,
      'input_reference',
      'invalid_value',
    );
  }
  if (`${image.width}x${image.height}` !== size) {
    throw invalid(
      `Inpaint image must match the requested width and height (${size}); got ${image.width}x${image.height}.`,
      'input_reference',
      'invalid_value',
    );
  }
}

function preferred(values: readonly string[], wanted: string): string {
  return values.includes(wanted) ? wanted : (values[0] ?? wanted);
}

export async function startFakeVideoServer(
  opts: FakeVideoServerOptions = {},
): Promise<FakeVideoServer> {
  const store = new VideoStore({
    clock: opts.clock ?? Date.now,
    defaults: opts.defaults ?? {},
    rpmWindowMs: opts.rpmWindowMs ?? 60_000,
    concurrencyRetryAfterMs: opts.concurrencyRetryAfterMs ?? 1000,
    expiresAfterMs: opts.expiresAfterMs ?? 3_600_000,
  });
  const allowedSeconds = opts.allowedSeconds ?? DEFAULT_SECONDS;
  const allowedSizes = opts.allowedSizes ?? DEFAULT_SIZES;
  const allowedModels = opts.allowedModels ?? null;
  const defaultSeconds = preferred(allowedSeconds, '4');
  const defaultSize = preferred(allowedSizes, '720x1280');

  const hooks = new WebhookDispatcher(store, opts.clock === undefined);
  const initial = () => {
    store.rules = rulesOf(opts.behave);
    store.limits = { rpm: opts.rpm ?? null, maxConcurrent: opts.maxConcurrent ?? null };
    hooks.configure(opts.webhook);
  };
  initial();

  // --- HTTP ---
  const app = Fastify({ logger: opts.logger ?? false, forceCloseConnections: true });
  await app.register(multipart, { limits: { fileSize: 50 * 1024 * 1024 } });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', `req_${randomBytes(12).toString('hex')}`);
    if (opts.apiKey === undefined || !request.url.startsWith('/v1/')) return;
    const auth = request.headers.authorization;
    if (auth === `Bearer ${opts.apiKey}`) return;
    throw new ApiError(401, {
      message: auth
        ? 'Incorrect API key provided. You can find your API key in your provider dashboard.'
        : "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
      code: auth ? 'invalid_api_key' : null,
    });
  });

  app.addHook('onResponse', async (request, reply) => {
    store.requests.push({
      at: store.now(),
      method: request.method,
      url: request.url,
      status: reply.statusCode,
    });
    if (reply.statusCode === 429) store.count429++;
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ApiError) return sendApiError(reply, error);
    const e = error as { statusCode?: number; message?: string };
    const status = typeof e.statusCode === 'number' && e.statusCode >= 400 ? e.statusCode : 500;
    if (status >= 500) request.log.error(error);
    return sendApiError(
      reply,
      new ApiError(status, {
        message:
          status >= 500 ? 'The fake server had an internal error.' : (e.message ?? 'Bad request'),
      }),
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendApiError(reply, notFound(`Invalid URL (${request.method} ${request.url})`)),
  );

  const submit = async (
    request: FastifyRequest,
    reply: FastifyReply,
    source: FakeVideoRecord | undefined,
    remixOf: string | undefined,
  ) => {
    const at = store.now();
    const sub = await parseSubmission(request);
    const call: CreateCall = store.recordCall({
      kind: remixOf === undefined ? 'create' : 'remix',
      at,
      prompt: sub.prompt ?? '',
      model: sub.model,
      seconds: sub.seconds,
      size: sub.size,
      metadata: sub.metadata,
      fields: sub.fields,
      inputReference: sub.inputReference,
      idempotencyKey: request.headers['idempotency-key'] as string | undefined,
      remixOf,
      status: 0,
      videoId: undefined,
    });
    try {
      if (remixOf !== undefined && !source) {
        throw notFound(`Video with id '${remixOf}' not found.`, 'video_id');
      }
      if (source && store.view(source, at).status !== 'completed') {
        throw invalid(
          `Video '${source.id}' is not completed; only completed videos can be remixed.`,
        );
      }
      store.admitRate(at);
      if (!sub.prompt) {
        throw invalid(
          "Missing required parameter: 'prompt'.",
          'prompt',
          'missing_required_parameter',
        );
      }
      const model = sub.model ?? source?.model ?? 'sora-2';
      const seconds = sub.seconds ?? source?.seconds ?? defaultSeconds;
      const size = sub.size ?? source?.size ?? defaultSize;
      allowed('model', model, allowedModels);
      allowed('seconds', seconds, allowedSeconds);
      allowed('size', size, allowedSizes);
      checkReference(sub.inputReference, size);
      store.admitConcurrency(at);

      const { behaviour: b, outcome } = store.resolve(call);
      const refused = refusal(outcome, b);
      const creates = !refused || (outcome === 'error_5xx' && b.createAnyway);
      const record = creates
        ? store.create(
            { prompt: sub.prompt, model, seconds, size, remixedFrom: source?.id ?? null },
            b,
            outcome,
            at,
          )
        : undefined;
      if (record) {
        call.videoId = record.id;
        hooks.schedule(record);
      }
      if (b.createDelayMs > 0) await sleep(b.createDelayMs);

      if (refused) throw refused;
      if (outcome === 'drop_connection' || !record) {
        // The render exists but the client never hears about it.
        reply.hijack();
        request.raw.socket.destroy();
        return reply;
      }
      call.status = 200;
      return reply.send(viewAtCreate(record, store.config.expiresAfterMs));
    } catch (err) {
      if (err instanceof ApiError) call.status = err.status;
      throw err;
    }
  };

  app.post('/v1/videos', (request, reply) => submit(request, reply, undefined, undefined));

  app.post<{ Params: { id: string } }>('/v1/videos/:id/remix', (request, reply) =>
    submit(request, reply, store.live(request.params.id), request.params.id),
  );

  const mustFind = (id: string): FakeVideoRecord => {
    const r = store.live(id);
    if (!r) throw notFound(`Video with id '${id}' not found.`, 'video_id');
    return r;
  };

  app.get<{ Params: { id: string } }>('/v1/videos/:id', async (request) =>
    store.view(mustFind(request.params.id)),
  );

  app.delete<{ Params: { id: string } }>('/v1/videos/:id', async (request) => {
    const r = mustFind(request.params.id);
    const status = store.view(r).status;
    if (status !== 'completed' && status !== 'failed') {
      throw invalid(
        `Video '${r.id}' is ${status}; only completed or failed videos can be deleted.`,
        'video_id',
      );
    }
    r.deletedAtMs = store.now();
    return { id: r.id, object: 'video.deleted', deleted: true };
  });

  app.get<{ Querystring: { after?: string; limit?: string; order?: string } }>(
    '/v1/videos',
    async (request) => {
      const { after, limit = '20', order = 'desc' } = request.query;
      const n = Number(limit);
      if (!Number.isInteger(n) || n < 1 || n > 100) {
        throw invalid(
          `Invalid 'limit': expected an integer between 1 and 100, got '${limit}'.`,
          'limit',
        );
      }
      if (order !== 'asc' && order !== 'desc') {
        throw invalid(`Invalid 'order': expected 'asc' or 'desc', got '${order}'.`, 'order');
      }
      if (store.listFailures.left > 0) {
        store.listFailures.left--;
        throw new ApiError(store.listFailures.status, { message: 'Bad gateway.' });
      }
      return store.list({ after, limit: n, order });
    },
  );

  app.get<{ Params: { id: string }; Querystring: { variant?: string } }>(
    '/v1/videos/:id/content',
    async (request, reply) =>
      sendContent(
        store,
        mustFind(request.params.id),
        request.query.variant,
        opts.mediaMatchesRequest ?? false,
        reply,
        opts.videoContent,
      ),
  );

  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('fake video server: no TCP address');
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;

  const close = async () => {
    await hooks.close();
    await app.close();
  };

  return {
    url,
    baseURL: `${url}/v1`,
    behave: (spec) => {
      store.rules = rulesOf(spec);
    },
    when: (match, behaviour) => {
      store.rules.push({ ...behaviour, match });
    },
    setLimits: (limits) => {
      store.limits = { ...store.limits, ...limits };
    },
    failLists: (n, status = 502) => {
      store.listFailures = { left: n, status };
    },
    get createCalls() {
      return store.calls;
    },
    createCount: (match) => store.countCalls(match),
    get videos() {
      return store.records;
    },
    video: (id) => {
      const r = store.live(id);
      return r ? store.view(r) : undefined;
    },
    runningCount: () => store.runningCount(),
    get peakConcurrent() {
      return store.peakConcurrent();
    },
    get count429() {
      return store.count429;
    },
    get requests() {
      return store.requests;
    },
    get sentWebhooks() {
      return store.sentWebhooks;
    },
    get webhookSecret() {
      return hooks.secret;
    },
    setWebhook: (config) => {
      hooks.configure(config);
      for (const r of store.records.values()) hooks.schedule(r);
    },
    deliverDueWebhooks: () => hooks.deliverDue(),
    redeliverWebhook: (eventId) => hooks.redeliver(eventId),
    reset: () => {
      hooks.reset();
      store.reset();
      initial();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
