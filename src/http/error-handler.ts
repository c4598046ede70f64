import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isDatabaseUnavailable } from '../db/client.ts';
import { type FieldError, ProblemError, problems, problemTypeBase } from './problem.ts';

/** Sends a problem as RFC 9457 problem+json; exported for hooks outside our error handler's reach. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: ProblemError) {
  const body = {
    type: `${problemTypeBase}${problem.slug}`,
    title: problem.title,
    status: problem.status,
    ...(problem.detail ? { detail: problem.detail } : {}),
    instance: request.url.split('?')[0],
    request_id: String(request.id),
    ...(problem.errors?.length ? { errors: problem.errors } : {}),
  };
  reply.headers(problem.headers).code(problem.status).type('application/problem+json');
  return reply.send(JSON.stringify(body));
}

const locationNames: Record<string, string> = {
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

function validationErrors(
  err: { validation: { instancePath: string; message?: string }[] },
  context?: string,
) {
  const prefix = context && context !== 'body' ? (locationNames[context] ?? context) : '';
  return err.validation.map((v): FieldError => {
    const path = [prefix, ...v.instancePath.split('/').filter(Boolean)].filter(Boolean).join('.');
    return { ...(path ? { path } : {}), message: v.message ?? 'invalid' };
  });
}

// Fastify's own client errors, mapped to problems whose messages are safe to show.
function fromFastifyError(err: FastifyError): ProblemError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
      return problems.payloadTooLarge(err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return problems.unsupportedMediaType(err.message);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problems.badRequest(`The body is not valid JSON: ${err.message}`);
  }
  // busboy's own errors are plain Errors: a form cut short, or no boundary, is the client's.
  if (/unexpected end of multipart data|^Multipart: Boundary not found/i.test(err.message))
    return problems.badRequest(`The multipart body is malformed: ${err.message}`);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new ProblemError({
      status: err.statusCode,
      slug: 'client-error',
      title: 'Client error',
      detail: err.message,
    });
  }
  return null;
}

/** The one error handler: everything leaves as problem+json, and a 5xx never carries internals. */
export const errorHandlerPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof ProblemError) {
      if (err.status >= 500) request.log.warn({ err }, err.message);
      return sendProblem(request, reply, err);
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const errors = validationErrors(err, err.validationContext);
      return sendProblem(
        request,
        reply,
        problems.badRequest('The request does not match the schema.', errors),
      );
    }
    const mapped = fromFastifyError(err);
    if (mapped) return sendProblem(request, reply, mapped);
    if (isDatabaseUnavailable(err)) {
      // An outage, not a bug: the client may retry; the pool's listener logs the outage itself.
      request.log.warn({ err: err.message }, 'database unavailable');
      return sendProblem(
        request,
        reply,
        problems.unavailable('The database is unavailable; retry shortly.'),
      );
    }
    request.log.error({ err }, 'unhandled error');
    return sendProblem(
      request,
      reply,
      new ProblemError({
        status: 500,
        slug: 'internal',
        title: 'Internal server error',
        detail: `Something went wrong on our side; quote request id ${request.id} when reporting it.`,
      }),
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      problems.notFound(`route ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
});
