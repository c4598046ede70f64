import type { Socket } from 'node:net';
import type {
  FastifyBaseLogger,
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ulid } from 'ulid';
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

/** Errors the router raises before any route runs; sent as problems like every other error. */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return sendProblem(
        request,
        reply,
        problems.badRequest('The URL holds an invalid percent-encoding.', [
          { path: 'params', message: 'invalid percent-encoding' },
        ]),
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return sendProblem(
        request,
        reply,
        new ProblemError({
          status: 414,
          slug: 'uri-too-long',
          title: 'URI too long',
          detail: 'A path parameter is longer than 100 characters.',
          errors: [{ path: 'params', message: 'longer than 100 characters' }],
        }),
      );
  }
  request.log.error({ err }, 'framework error');
  return sendProblem(
    request,
    reply,
    new ProblemError({ status: 500, slug: 'internal', title: 'Internal server error' }),
  );
}

const clientErrors: Record<string, [status: number, title: string, detail: string]> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'Request header fields too large',
    'The request line and headers may hold at most 16 KB (a URL included).',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request timeout', 'The request did not arrive in time.'],
};

/**
 * Node's HTTP parser refuses some requests before fastify sees them (headers or URL over 16 KB,
 * Content-Length with Transfer-Encoding, garbage): answered on the raw socket, still as a
 * problem, then the connection is closed since the stream's framing cannot be trusted.
 */
export function clientErrorHandler(
  this: { log: FastifyBaseLogger },
  err: Error & { code?: string; rawPacket?: unknown },
  socket: Socket,
) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, title, detail] = clientErrors[err.code ?? ''] ?? [
    400,
    'Malformed request',
    'The request is not valid HTTP/1.1 (e.g. both Content-Length and Transfer-Encoding).',
  ];
  const target = /^[A-Z]+ (\/[^\s?]{0,200})/.exec(
    Buffer.isBuffer(err.rawPacket) ? err.rawPacket.toString('latin1', 0, 256) : '',
  );
  const slug = status === 400 ? 'malformed-request' : title.toLowerCase().replaceAll(' ', '-');
  const body = JSON.stringify({
    type: `${problemTypeBase}${slug}`,
    title,
    status,
    detail,
    instance: target?.[1] ?? '/',
    request_id: `req_${ulid().toLowerCase()}`,
  });
  this.log.debug({ err: { code: err.code, message: err.message } }, 'client error');
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
