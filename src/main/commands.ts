import { parseArgs } from 'node:util';
import { baseEnvSchema, ConfigError, loadConfig } from '../config.ts';
import { createDatabase } from '../db/client.ts';
import { runMigrations } from '../db/migrate.ts';
import { isScope, type Scope, scopes } from '../tenants/scopes.ts';
import { createTenantService } from '../tenants/service.ts';

const usage = `Usage: admatrix <command>

  api                                   start the HTTP API
  worker                                start the queue workers
  migrate                               apply database migrations
  demo                                  render the example campaign on the local provider
  keys create --tenant NAME [--scopes a,b] [--name LABEL]
                                        create an API key (printed once)
  keys list [--tenant NAME]             list keys (never the secrets)
  keys revoke ID_OR_PREFIX              revoke a key

Scopes: ${scopes.join(', ')} (default: all)`;

const dbEnv = baseEnvSchema.pick({ DATABASE_URL: true });

async function withDatabase<T>(
  fn: (db: ReturnType<typeof createDatabase>) => Promise<T>,
): Promise<T> {
  const database = createDatabase({
    url: loadConfig(process.env, dbEnv).DATABASE_URL,
    max: 2,
    applicationName: 'admatrix-cli',
  });
  try {
    return await fn(database);
  } finally {
    await database.pool.end();
  }
}

async function keys(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, scopes: { type: 'string' }, name: { type: 'string' } },
  });
  const [action, target] = positionals;
  await withDatabase(async ({ db }) => {
    const service = createTenantService({ db });
    if (action === 'create') {
      if (!values.tenant) throw new UsageError('keys create needs --tenant NAME');
      const requested = values.scopes ? values.scopes.split(',').map((s) => s.trim()) : [];
      const unknown = requested.filter((s) => !isScope(s));
      if (unknown.length) throw new UsageError(`unknown scope(s): ${unknown.join(', ')}`);
      const created = await service.createKey({
        tenant: values.tenant,
        scopes: requested as Scope[],
        ...(values.name ? { name: values.name } : {}),
      });
      process.stderr.write(
        `Created key ${created.id} for tenant ${created.tenant} (${created.tenantId}) with scopes ${created.scopes.join(', ')}.\nStore it now; it cannot be shown again:\n`,
      );
      process.stdout.write(`${created.key}\n`);
    } else if (action === 'list') {
      for (const k of await service.listKeys(values.tenant)) {
        process.stdout.write(
          `${k.id}\t${k.prefix}…\t${k.tenant}\t${k.scopes.join(',')}\t${k.revokedAt ? 'revoked' : 'active'}\n`,
        );
      }
    } else if (action === 'revoke') {
      if (!target) throw new UsageError('keys revoke needs a key id or prefix');
      const revoked = await service.revokeKey(target);
      if (!revoked.length) throw new UsageError(`no active key ${target}`);
      process.stderr.write(`Revoked ${revoked.map((k) => k.id).join(', ')}\n`);
    } else {
      throw new UsageError(`unknown keys action ${action ?? '(none)'}`);
    }
  });
}

class UsageError extends Error {}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  switch (command) {
    // Loaded on demand: keys and migrate should not pay for Fastify and BullMQ at start-up.
    case 'api':
      await (await import('./api.ts')).startApi(loadConfig(process.env));
      return;
    case 'worker':
      await (await import('./worker.ts')).startWorker(loadConfig(process.env));
      return;
    case 'demo':
      await (await import('./demo.ts')).runDemo(loadConfig(process.env));
      return;
    case 'migrate':
      await withDatabase(async ({ db }) => runMigrations(db));
      process.stderr.write('Database migrated.\n');
      return;
    case 'keys':
      await keys(rest);
      return;
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${usage}\n`);
      return;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

/** Runs one command; errors become a message on stderr and exit code 1. */
export function run(argv: string[]): Promise<void> {
  return main(argv).catch((err: unknown) => {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(
        `admatrix: ${err.message}\n${err instanceof UsageError ? `\n${usage}\n` : ''}`,
      );
    } else {
      process.stderr.write(`admatrix: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    process.exit(1);
  });
}
