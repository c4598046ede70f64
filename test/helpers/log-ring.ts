import { Writable } from 'node:stream';
import pino from 'pino';

/**
 * The last warnings and errors this test file's app and workers logged, whatever LOG_LEVEL
 * says: a run that stalls on CI (a job failing and backing off, a pool timing out) is then
 * explained by the timeout that reports it, not only by its last status counts.
 */
const kept: string[] = [];
const KEEP = 30;

const ring = new Writable({
  write(chunk, _encoding, done) {
    kept.push(String(chunk).trimEnd().slice(0, 800));
    if (kept.length > KEEP) kept.shift();
    done();
  },
});

export function recentWarnings(): string {
  return kept.length ? `\nlast warnings logged in this file:\n${kept.join('\n')}` : '';
}

/** A logger writing `level` and up to stdout, and warnings and up to the ring. */
export function testLogger(level: string): pino.Logger {
  const streams: pino.StreamEntry[] = [{ level: 'warn', stream: ring }];
  if (level !== 'silent') streams.push({ level: level as pino.Level, stream: process.stdout });
  const values = pino.levels.values;
  const lowest = level !== 'silent' && (values[level] ?? Infinity) < values.warn! ? level : 'warn';
  return pino({ level: lowest }, pino.multistream(streams));
}
