import { and, desc, eq, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { apiKeys, tenants } from '../db/schema.ts';
import { newId } from '../ids.ts';

export async function findOrCreateTenant(db: DbOrTx, name: string) {
  await db
    .insert(tenants)
    .values({ id: newId('tenant'), name })
    .onConflictDoNothing({ target: tenants.name });
  const [tenant] = await db.select().from(tenants).where(eq(tenants.name, name));
  return tenant!;
}

export async function findTenantByName(db: DbOrTx, name: string) {
  const [tenant] = await db.select().from(tenants).where(eq(tenants.name, name));
  return tenant ?? null;
}

export async function insertApiKey(
  db: DbOrTx,
  params: {
    id: string;
    tenantId: string;
    keyHash: string;
    prefix: string;
    name: string | null;
    scopes: string[];
  },
) {
  await db.insert(apiKeys).values(params);
}

export async function findActiveKeyByHash(db: DbOrTx, keyHash: string) {
  const [row] = await db
    .select({
      id: apiKeys.id,
      tenantId: apiKeys.tenantId,
      scopes: apiKeys.scopes,
      prefix: apiKeys.prefix,
    })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
  return row ?? null;
}

export async function revokeApiKey(db: DbOrTx, params: { idOrPrefix: string }) {
  const column = params.idOrPrefix.startsWith('amx_') ? apiKeys.prefix : apiKeys.id;
  return db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(column, params.idOrPrefix), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id, prefix: apiKeys.prefix, tenantId: apiKeys.tenantId });
}

export async function listApiKeys(db: DbOrTx, params: { tenantId?: string }) {
  return db
    .select({
      id: apiKeys.id,
      tenant: tenants.name,
      prefix: apiKeys.prefix,
      name: apiKeys.name,
      scopes: apiKeys.scopes,
      createdAt: apiKeys.createdAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(params.tenantId ? eq(apiKeys.tenantId, params.tenantId) : undefined)
    .orderBy(desc(apiKeys.id));
}
