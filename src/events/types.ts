/** What the outbox records and webhook endpoints subscribe to: one list, the type derived from it. */
export const eventTypes = [
  'variant.ready',
  'variant.failed',
  'variant.approved',
  'variant.delivered',
  'run.completed',
] as const;

export type EventType = (typeof eventTypes)[number];
