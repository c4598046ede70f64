import pg from 'pg';
import type { Logger } from 'pino';

const eventsChannel = 'amx_events';

export interface EventListener {
  close(): Promise<void>;
}

/**
 * LISTENs for the NOTIFY the events table's trigger sends on commit, so webhooks go out within
 * milliseconds of the change instead of at the next poll. A connection of its own (LISTEN does
 * not survive a pool); when it drops it reconnects, and calls onNotify once on every (re)connect
 * since whatever committed meanwhile went unannounced.
 */
export function startEventListener(deps: {
  url: string;
  logger: Logger;
  onNotify: () => void;
  retryMs?: number;
}): EventListener {
  const log = deps.logger.child({ component: 'events-listener' });
  let client: pg.Client | null = null;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  const retry = () => {
    if (closed || timer) return;
    const ms = Math.min((deps.retryMs ?? 500) * 2 ** Math.min(failures, 5), 15_000);
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, ms);
    timer.unref();
  };

  async function connect() {
    const c = new pg.Client({ connectionString: deps.url, application_name: 'admatrix-events' });
    client = c;
    c.on('notification', () => deps.onNotify());
    c.on('error', (err) => {
      log.warn({ err: err.message }, 'events listener connection lost');
      void c.end().catch(() => {});
    });
    c.on('end', () => {
      if (client === c) client = null;
      retry();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${eventsChannel}`);
      failures = 0;
      deps.onNotify();
    } catch (err) {
      failures++;
      log.warn({ err: (err as Error).message }, 'events listener could not connect');
      await c.end().catch(() => {});
      retry();
    }
    if (closed) await c.end().catch(() => {});
  }

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await client?.end().catch(() => {});
    },
  };
}
