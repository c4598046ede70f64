import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/client.ts';
import { newId } from '../ids.ts';
import * as repo from './repository.ts';
import { scopes as allScopes, type Scope } from './scopes.ts';

export interface AuthContext {
  tenantId: string;
  keyId: string;
  keyPrefix: string;
  scopes: ReadonlySet<string>;
}

const keyPattern = /^amx_[A-Za-z0-9_-]{43}$/;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function createTenantService(deps: { db: Db }) {
  const { db } = deps;
  return {
    /** Returns the plaintext key: the only time it exists outside the caller's hands. */
    async createKey(params: { tenant: string; scopes?: Scope[]; name?: string }) {
      const key = `amx_${randomBytes(32).toString('base64url')}`;
      const prefix = key.slice(0, 12);
      const scopes = params.scopes?.length ? params.scopes : [...allScopes];
      const tenant = await repo.findOrCreateTenant(db, params.tenant);
      const id = newId('apiKey');
      await repo.insertApiKey(db, {
        id,
        tenantId: tenant.id,
        keyHash: hashApiKey(key),
        prefix,
        name: params.name ?? null,
        scopes,
      });
      return { id, key, prefix, tenantId: tenant.id, tenant: tenant.name, scopes };
    },

    async authenticate(key: string): Promise<AuthContext | null> {
      if (!keyPattern.test(key)) return null;
      const row = await repo.findActiveKeyByHash(db, hashApiKey(key));
      if (!row) return null;
      return {
        tenantId: row.tenantId,
        keyId: row.id,
        keyPrefix: row.prefix,
        scopes: new Set(row.scopes),
      };
    },

    revokeKey: (idOrPrefix: string) => repo.revokeApiKey(db, { idOrPrefix }),

    async listKeys(tenantName?: string) {
      if (!tenantName) return repo.listApiKeys(db, {});
      const tenant = await repo.findTenantByName(db, tenantName);
      return tenant ? repo.listApiKeys(db, { tenantId: tenant.id }) : [];
    },
  };
}

export type TenantService = ReturnType<typeof createTenantService>;
