// The database schema, one file per domain under schema/; drizzle-kit reads it from here.

export * from './schema/campaigns.ts';
export * from './schema/events.ts';
export * from './schema/performance.ts';
export * from './schema/providers.ts';
export * from './schema/shots.ts';
export * from './schema/tenants.ts';
export * from './schema/variants.ts';
