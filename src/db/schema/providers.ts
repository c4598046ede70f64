// What was sent to each provider, for its rate and daily limits.
import { bigserial, index, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { createdAt } from './columns.ts';

/**
 * One row per create call to a provider: the windows its RPM and daily limits are enforced on.
 * `at` is when we claimed the call, `done_at` when its answer came back: the provider saw it
 * somewhere in between, so the RPM window counts a call until a full window after `done_at`.
 */
export const providerCalls = pgTable(
  'provider_calls',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    provider: text('provider').notNull(),
    /** '' for calls recorded before models were; daily caps per model count by it. */
    model: text('model').notNull().default(''),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    doneAt: timestamp('done_at', { withTimezone: true }),
    /** accepted | rejected (a 4xx: not a generation) | unknown; null while in flight. */
    outcome: text('outcome'),
    variantId: text('variant_id').notNull(),
  },
  (t) => [
    index('provider_calls_idx').on(t.provider, t.at),
    index('provider_calls_model_idx').on(t.provider, t.model, t.at),
  ],
);

/**
 * A provider's 429 said "not before `until`": for the whole provider (model '') on a rate
 * limit, for one model on a daily cap. The limiter waits it out; nothing else pauses a queue.
 */
export const providerPauses = pgTable(
  'provider_pauses',
  {
    provider: text('provider').notNull(),
    model: text('model').notNull().default(''),
    until: timestamp('until', { withTimezone: true }).notNull(),
    code: text('code').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.model] })],
);
