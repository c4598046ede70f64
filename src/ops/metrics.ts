import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { type Queues, queueNames } from '../queue/registry.ts';

/** HTTP latency by route template (not raw URL, which would explode the label set). */
export async function registerHttpMetrics(app: FastifyInstance, deps: { registry: Registry }) {
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [deps.registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    histogram.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
}

/** Job counts per queue and state, read from Redis when Prometheus scrapes. */
export function registerQueueGauges(deps: { registry: Registry; queues: Queues }) {
  const states = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: [deps.registry],
    async collect() {
      this.reset();
      for (const name of queueNames) {
        try {
          const counts = await deps.queues.get(name).getJobCounts(...states);
          for (const state of states) this.set({ queue: name, state }, counts[state] ?? 0);
        } catch {
          // Redis down: leave the series absent rather than fail the whole scrape.
        }
      }
    },
  });
}

/** The worker has no HTTP server of its own; this one answers Prometheus scrapes only. */
/**
 * METRICS_TOKEN's check, shared by the api's /metrics and the worker's metrics port. Compared as
 * digests: equal lengths, so timingSafeEqual neither throws nor tells the token's length.
 */
export function metricsAccess(token: string | undefined) {
  const sha256 = (text: string) => createHash('sha256').update(text).digest();
  const expected = token ? sha256(token) : null;
  return (authorization: string | undefined): boolean => {
    if (!expected) return true;
    const given = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    return given !== undefined && timingSafeEqual(sha256(given), expected);
  };
}

export function serveMetrics(
  registry: Registry,
  opts: { host: string; port: number; token?: string | undefined },
): Promise<Server> {
  const allowed = metricsAccess(opts.token);
  const server = createServer(async (request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    if (!allowed(request.headers.authorization)) {
      response.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      return;
    }
    response.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
  });
  return new Promise((resolve) => server.listen(opts.port, opts.host, () => resolve(server)));
}
