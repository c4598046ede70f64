import { timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sendProblem } from '../http/error-handler.ts';
import { ProblemError } from '../http/problem.ts';
import { type Queues, queueNames } from '../queue/registry.ts';

const dashboardPath = '/admin/queues';

function sameSecret(given: string, expected: string) {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Bearer for scripts, Basic (any user name) so a browser can prompt for it. */
function presentedKey(request: FastifyRequest): string | null {
  const header = request.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer?.[1]) return bearer[1];
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (basic?.[1])
    return Buffer.from(basic[1], 'base64').toString('utf8').split(':').slice(1).join(':');
  return null;
}

/**
 * The operators' queue dashboard (bull-board). It can retry and remove jobs, so it lives
 * behind the admin key only, never behind a tenant's API key.
 */
export async function registerDashboard(
  app: FastifyInstance,
  deps: { queues: Queues; adminKey: string },
) {
  await app.register(async (scope) => {
    // Answered here rather than thrown: bull-board installs its own error handler for its routes.
    scope.addHook('onRequest', async (request, reply) => {
      const key = presentedKey(request);
      if (!key || !sameSecret(key, deps.adminKey)) {
        return sendProblem(
          request,
          reply,
          new ProblemError({
            status: 401,
            slug: 'unauthorized',
            title: 'Unauthorized',
            detail: 'The queue dashboard needs the admin key.',
            headers: { 'www-authenticate': 'Basic realm="admatrix operators"' },
          }),
        );
      }
    });
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(dashboardPath);
    createBullBoard({
      queues: queueNames.map((name) => new BullMQAdapter(deps.queues.get(name))),
      serverAdapter,
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: dashboardPath });
  });
}
