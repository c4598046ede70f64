import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createDatabase } from '../../src/db/client.ts';
import { runMigrations } from '../../src/db/migrate.ts';
import { waitFor } from './app.ts';

const run = promisify(execFile);

/** A port nothing listens on now (the OS's choice); a service started right after takes it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A Postgres of the test's own (initdb in a temporary directory), which it may stop and start:
 * the shared one on 5432 is everyone's. Postgres refuses to run as root, so as root the
 * cluster belongs to the `postgres` OS user, as Debian's own does.
 */
export interface PrivatePostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  destroy(): Promise<void>;
}

async function postgresBin(): Promise<string | undefined> {
  const root = '/usr/lib/postgresql';
  const versions = await readdir(root).catch(() => [] as string[]);
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest ? join(root, newest, 'bin') : undefined;
}

/** Why this machine cannot run a private Postgres, or undefined when it can (checks only). */
export async function privatePostgresUnavailable(): Promise<string | undefined> {
  if (!(await postgresBin())) return 'no Postgres binaries under /usr/lib/postgresql';
  if (process.getuid?.() === 0 && !(await postgresUser()))
    return 'running as root (initdb refuses root) and there is no postgres OS user to run it as';
  return undefined;
}

async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  const id = (flag: string) =>
    run('id', [flag, 'postgres']).then(
      ({ stdout }) => Number(stdout.trim()),
      () => undefined,
    );
  const [uid, gid] = await Promise.all([id('-u'), id('-g')]);
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const reason = await privatePostgresUnavailable();
  if (reason) throw new Error(reason);
  const bin = (await postgresBin())!;
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'amx-pg-'));
  if (asRoot) {
    const user = (await postgresUser())!;
    await chown(dir, user.uid, user.gid);
  }
  const as = (cmd: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args])
      : run(join(bin, cmd), args);
  const data = join(dir, 'data');
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  // No fsync: a fast stop flushes anyway, and the data is thrown away after the test.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = async () => {
    await as('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  };
  // Fast: what an operator's restart does (sessions are terminated with 57P01, sockets close).
  const stop = async () => {
    await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    async destroy() {
      await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis of the test's own, without persistence: a restart comes back empty, as after a crash. */
export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', ''], {
      stdio: 'ignore',
    });
    const probe = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // Refused until the server listens: the waitFor below retries.
    probe.on('error', () => {});
    await waitFor(
      async () => {
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG' ? true : undefined;
        } catch {
          probe.disconnect();
          return undefined;
        }
      },
      { timeoutMs: 10_000, what: `redis-server on ${port}` },
    ).finally(() => probe.disconnect());
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return { url, start, stop };
}

/** The migrated schema in a private Postgres, as the migrate command would leave it. */
export async function migrate(url: string): Promise<void> {
  const database = createDatabase({ url, max: 1 });
  try {
    await runMigrations(database.db);
  } finally {
    await database.pool.end();
  }
}
