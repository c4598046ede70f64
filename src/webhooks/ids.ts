import { type SQL, sql } from 'drizzle-orm';
import { monotonicFactory } from 'ulid';

// Internal rows (never addressed by a client) keep their prefixes out of the public id table;
// the shape matches it, so attempt ids work as list cursors like every other id.
const ulid = monotonicFactory();

export const newAttemptId = () => `wha_${ulid().toLowerCase()}`;

/**
 * A delivery is the pair (event, endpoint), so its id is derived from the pair, in SQL: the
 * dispatcher and a replay name the same row (and BullMQ job) without reading it first.
 */
export const deliveryIdSql = (eventId: SQL, endpointId: SQL) =>
  sql`'whd_' || substr(md5(${eventId} || ':' || ${endpointId}), 1, 26)`;
