import type { FastifyRequest } from 'fastify';
import { problems } from '../http/problem.ts';
import { CsvDecodeError, charsetOf, decodeCsv } from './decode.ts';

/** Turns a decoding failure into the problem every CSV route answers with. */
export function decodeProblem(err: CsvDecodeError) {
  if (err.unsupportedCharset) return problems.unsupportedMediaType(err.message);
  return problems.badRequest('The CSV cannot be read.', [
    err.row === undefined ? { message: err.message } : { row: err.row, message: err.message },
  ]);
}

/**
 * The text/csv and text/plain body parser: the raw bytes are decoded strictly with the
 * declared charset (see decode.ts), so no route ever sees a replacement character.
 */
export function parseCsvBody(
  request: FastifyRequest,
  body: Buffer,
  done: (err: Error | null, body?: unknown) => void,
): void {
  try {
    done(null, decodeCsv(body, charsetOf(request.headers['content-type'])));
  } catch (err) {
    done(err instanceof CsvDecodeError ? decodeProblem(err) : (err as Error));
  }
}
