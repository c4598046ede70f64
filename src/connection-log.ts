import type { Logger } from 'pino';

/**
 * Logs a connection's errors once per outage: the first error after it was up, then its
 * recovery with the number of errors in between. A client reconnecting every 100 ms–2 s
 * through an outage would otherwise write thousands of identical lines.
 */
export function createConnectionLog(logger: Logger, what: string) {
  let failing = false;
  let since = 0;
  let errors = 0;
  return {
    error(err: unknown) {
      errors++;
      if (failing) return;
      failing = true;
      since = Date.now();
      errors = 1;
      logger.warn(
        { err: err instanceof Error ? err.message : String(err), code: codeOf(err) },
        `${what} connection error (logged once until it recovers)`,
      );
    },
    ok() {
      if (!failing) return;
      failing = false;
      logger.info({ errors, down_ms: Date.now() - since }, `${what} connection restored`);
    },
  };
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
