import type { Readable } from 'node:stream';
import { errorCodes, type FastifyInstance } from 'fastify';
import { problems } from './problem.ts';

/** Deeper JSON is refused before it is parsed: no request of ours nests past a handful. */
const maxJsonDepth = 64;

/**
 * One linear pass over the raw text: the path (keys and indexes) to the first container that
 * opens past maxDepth, or null. Nothing is allocated per character, only per container on the
 * stack, so a 1 MB body of `[[[[…` costs a few milliseconds and never recurses.
 */
export function findTooDeep(text: string, maxDepth = maxJsonDepth): (string | number)[] | null {
  // Per open container: -1 for an object, else the index of the current array element.
  const index: number[] = [];
  // Per open object: where its current key starts and ends in the text.
  const keyAt: [number, number][] = [];
  let lastString: [number, number] = [0, 0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c /* \ */) i++;
        else if (s === 0x22) break;
      }
      lastString = [start, i + 1];
    } else if (c === 0x3a /* : */) {
      if (keyAt.length > 0) keyAt[keyAt.length - 1] = lastString;
    } else if (c === 0x2c /* , */) {
      const top = index.length - 1;
      if (top >= 0 && index[top] !== -1) index[top] = (index[top] ?? 0) + 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (index.length >= maxDepth) return pathOf(text, index, keyAt);
      index.push(c === 0x7b ? -1 : 0);
      if (c === 0x7b) keyAt.push([0, 0]);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (index.pop() === -1) keyAt.pop();
    }
  }
  return null;
}

function pathOf(text: string, index: number[], keyAt: [number, number][]): (string | number)[] {
  const path: (string | number)[] = [];
  let k = 0;
  for (const at of index) {
    if (at !== -1) {
      path.push(at);
      continue;
    }
    const [start, end] = keyAt[k++] ?? [0, 0];
    try {
      path.push(JSON.parse(text.slice(start, end)) as string);
    } catch {
      path.push('?');
    }
  }
  return path;
}

/** Reads a request stream up to a byte limit, failing as fastify's own body reader does. */
function readText(
  payload: Readable,
  limit: number,
  contentLength: number,
  done: (err: Error | null, text?: string) => void,
) {
  if (contentLength > limit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
  const chunks: Buffer[] = [];
  let received = 0;
  const cleanup = () => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onEnd);
  };
  function onData(chunk: Buffer | string) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    received += buf.length;
    if (received > limit) {
      cleanup();
      return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    }
    chunks.push(buf);
  }
  function onEnd(err?: Error & { statusCode?: number }) {
    cleanup();
    if (err) {
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      return done(err);
    }
    if (!Number.isNaN(contentLength) && received !== contentLength) {
      return done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
    }
    done(null, Buffer.concat(chunks, received).toString('utf8'));
  }
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}

/**
 * JSON bodies keep the normal body limit on every route, whatever a route allows for its
 * streamed uploads (POST /v1/metrics takes 50 MB of CSV): JSON is parsed whole, and a 12 MB
 * body of empty objects took the api past a 512 MB heap. The depth is checked on the raw text
 * before JSON.parse, then fastify's own parser runs, with its proto-poisoning checks.
 */
export function registerJsonBodyParser(app: FastifyInstance, opts: { limitBytes: number }) {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', (request, payload, done) => {
    const routeLimit = request.routeOptions.bodyLimit ?? opts.limitBytes;
    const limit = Math.min(routeLimit, opts.limitBytes);
    readText(payload, limit, Number(request.headers['content-length']), (err, text) => {
      if (err || text === undefined) return done(err ?? new Error('no body'), undefined);
      const tooDeep = findTooDeep(text);
      if (tooDeep) {
        const path = tooDeep.join('.') || 'body';
        return done(
          problems.badRequest(`JSON may nest at most ${maxJsonDepth} levels deep.`, [
            { path, message: `nested deeper than ${maxJsonDepth} levels` },
          ]),
          undefined,
        );
      }
      parse(request, text, done);
    });
  });
}

/**
 * The length of JSON.stringify(value), counted without recursion and without building the
 * string; stops counting once past `limit`. Only for values that came from JSON.parse.
 */
export function jsonLength(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= limit) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      total += 2 + Math.max(0, v.length - 1);
      for (const item of v) stack.push(item === undefined ? null : item);
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v).filter(([, x]) => x !== undefined);
      total += 2 + Math.max(0, entries.length - 1);
      for (const [k, x] of entries) {
        total += JSON.stringify(k).length + 1;
        stack.push(x);
      }
    } else {
      total += (JSON.stringify(v) ?? 'null').length;
    }
  }
  return total;
}
