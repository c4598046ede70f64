import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError } from '../http/problem.ts';
import { registerKeyRateLimit } from '../http/rate-limit.ts';
import type { Scope } from '../tenants/scopes.ts';
import { campaignPages } from './campaign-pages.ts';
import {
  type ConsoleDeps,
  type Form,
  field,
  formOf,
  pageContext,
  seeOther,
  sendHtml,
} from './context.ts';
import { deliveryPages } from './delivery-pages.ts';
import { contentSecurityPolicy, errorPage, signInPage } from './layout.ts';
import { logoPages } from './logo-pages.ts';
import { matrixPages } from './matrix-pages.ts';
import { reportPages } from './report-pages.ts';
import { reviewPages } from './review-pages.ts';
import { runPages } from './run-pages.ts';
import { cookieName, readCookie, sameToken, setSessionCookie } from './session.ts';
import { variantPages } from './variant-pages.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Console routes reachable without a session (sign-in, static files). */
    consolePublic?: boolean;
    /** A multipart form that checks its own _csrf part as it streams (the matrix upload). */
    csrfInParts?: boolean;
    /**
     * The API key scope a console route needs, as its /v1 twin does; 'any' for sign-out. Unset:
     * campaigns:read to look (GET), campaigns:write to change (POST).
     */
    consoleScope?: Scope | 'any';
    /** Asked by the page itself (the progress poll), not by the manager: no sliding of the session. */
    consolePassive?: boolean;
  }
}

const require = createRequire(import.meta.url);

/** Static files, read once: htmx from its npm package (pinned major 2), the console's CSS and JS. */
async function loadStatic() {
  const htmx = await readFile(require.resolve('htmx.org/dist/htmx.min.js'));
  const css = await readFile(new URL('./static/console.css', import.meta.url));
  const js = await readFile(new URL('./static/console.js', import.meta.url));
  return {
    'console.js': { body: js, type: 'text/javascript; charset=utf-8' },
    'htmx.min.js': { body: htmx, type: 'text/javascript; charset=utf-8' },
    'console.css': { body: css, type: 'text/css; charset=utf-8' },
  } as Record<string, { body: Buffer; type: string }>;
}

function parseForm(text: string): Form {
  const out: Form = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * A cross-site POST carries another Origin; same-site ones carry ours or none (old browsers).
 * Fetch metadata, where the browser sends it, must say same-origin (or none: typed by the user)
 * too; it covers the sign-in form, which has no session and so no CSRF token yet.
 */
function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = request.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

function toSignIn(request: FastifyRequest, reply: FastifyReply) {
  // htmx follows HX-Redirect with a full navigation instead of swapping a page into a fragment.
  if (request.headers['hx-request'])
    return reply.code(401).header('hx-redirect', '/console/sign-in').send();
  return seeOther(reply, '/console/sign-in');
}

/**
 * The web console at /console: server-rendered pages calling the /v1 services. A session cookie
 * (HttpOnly, SameSite=Strict, stored server-side) replaces the bearer key; every POST also
 * carries the session's CSRF token, in a form field or htmx's x-csrf-token header.
 */
export async function consoleRoutes(app: FastifyInstance, deps: ConsoleDeps) {
  const files = await loadStatic();
  // Pages for people, not API: kept out of the OpenAPI document.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  app.decorateRequest('consoleSession', null);
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 256 * 1024 },
    (_req, body, done) => done(null, parseForm(body as string)),
  );
  // Pages cost what the /v1 calls under them cost: the same budget per key. Static files are
  // free (cached by the browser), and sign-in has its own failure limit.
  if (deps.rateLimit)
    await registerKeyRateLimit(
      app,
      deps.rateLimit,
      (request) => request.consoleSession?.auth.keyId,
    );
  await app.register(fastifyMultipart, {
    limits: { fileSize: deps.maxFileBytes, files: 1, fields: 10 },
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.headers({
      'content-security-policy': contentSecurityPolicy,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'cache-control': 'no-store',
    });
    if (request.routeOptions.config.consolePublic) return;
    const id = readCookie(request.headers.cookie, cookieName);
    const touch = !request.routeOptions.config.consolePassive;
    const session = id ? await deps.sessions.find(id, { touch }) : null;
    if (!session) return toSignIn(request, reply);
    request.consoleSession = session;
    // The session acts with its key's scopes: a read-only key can look but not start a run.
    const config = request.routeOptions.config;
    const scope =
      config.consoleScope ?? (request.method === 'POST' ? 'campaigns:write' : 'campaigns:read');
    if (scope !== 'any' && !session.auth.scopes.has(scope)) {
      const detail = `This API key lacks the scope ${scope}; sign in with a key that has it.`;
      return sendHtml(reply, errorPage(pageContext(request), 403, 'Forbidden', detail), 403);
    }
  });

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    if (!sameOrigin(request)) {
      return sendHtml(reply, errorPage(null, 403, 'Forbidden', 'Cross-site request refused.'), 403);
    }
    const session = request.consoleSession;
    // Multipart uploads check their _csrf field as they read the parts (matrix-pages.ts).
    // Only a route that reads its parts itself may skip this; any other multipart POST has no
    // parsed body, so no token, and is refused here.
    if (!session || (request.isMultipart() && request.routeOptions.config.csrfInParts)) return;
    const given = request.headers['x-csrf-token'] ?? field(formOf(request), '_csrf');
    if (!sameToken(given, session.csrfToken)) {
      return sendHtml(
        reply,
        errorPage(
          pageContext(request),
          403,
          'Forbidden',
          'The form has expired; reload the page and try again.',
        ),
        403,
      );
    }
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const ctx = request.consoleSession ? pageContext(request) : null;
    if (err instanceof ProblemError) {
      reply.headers(
        Object.fromEntries(Object.entries(err.headers).filter(([k]) => k !== 'www-authenticate')),
      );
      return sendHtml(
        reply,
        errorPage(ctx, err.status, err.title, err.detail, err.errors),
        err.status,
      );
    }
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'console request failed');
    const detail =
      status < 500 ? err.message : 'Something went wrong; the request id is in the logs.';
    return sendHtml(
      reply,
      errorPage(ctx, status, status < 500 ? 'Bad request' : 'Server error', detail),
      status,
    );
  });
  app.setNotFoundHandler((request, reply) =>
    sendHtml(
      reply,
      errorPage(
        request.consoleSession ? pageContext(request) : null,
        404,
        'Not found',
        'There is nothing here.',
      ),
      404,
    ),
  );

  app.get(
    '/static/:file',
    { config: { consolePublic: true, rateLimit: false } },
    async (request, reply) => {
      const file = files[(request.params as { file: string }).file];
      if (!file) return reply.code(404).send();
      return reply.header('cache-control', 'public, max-age=3600').type(file.type).send(file.body);
    },
  );

  app.get('/sign-in', { config: { consolePublic: true } }, async (_request, reply) =>
    sendHtml(reply, signInPage()),
  );

  app.post('/sign-in', { config: { consolePublic: true } }, async (request, reply) => {
    const tooMany = (ms: number) =>
      sendHtml(
        reply.header('retry-after', String(Math.max(1, Math.ceil(ms / 1000)))),
        signInPage({ error: 'Too many failed sign-ins from this address; wait a minute.' }),
        429,
      );
    const blockedMs = deps.signInLimiter?.blockedFor(request.ip) ?? 0;
    if (blockedMs > 0) return tooMany(blockedMs);
    const key = field(formOf(request), 'api_key');
    const auth = key ? await deps.tenants.authenticate(key) : null;
    if (!auth) {
      const nowBlocked = (await deps.signInLimiter?.recordFailure(request.ip)) ?? 0;
      if (nowBlocked > 0) return tooMany(nowBlocked);
      return sendHtml(reply, signInPage({ error: 'That API key is unknown or revoked.' }), 401);
    }
    // A new id and CSRF token at every sign-in; a session this browser already had ends.
    const previous = readCookie(request.headers.cookie, cookieName);
    if (previous) await deps.sessions.destroy(previous);
    const session = await deps.sessions.create(auth);
    setSessionCookie(request, reply, session.id, session.cookieExpiresAt);
    return seeOther(reply, '/console');
  });

  app.post('/sign-out', { config: { consoleScope: 'any' } }, async (request, reply) => {
    const id = readCookie(request.headers.cookie, cookieName);
    if (id) await deps.sessions.destroy(id);
    setSessionCookie(request, reply, '', null);
    return seeOther(reply, '/console/sign-in');
  });

  // The options fastify handed us carry our own prefix: the pages get the deps alone.
  const { prefix: _prefix, ...pageDeps } = deps as ConsoleDeps & { prefix?: string };
  for (const pages of [
    campaignPages,
    matrixPages,
    runPages,
    reviewPages,
    reportPages,
    deliveryPages,
    variantPages,
    logoPages,
  ])
    await app.register(async (scope) => pages(scope, pageDeps));
}
