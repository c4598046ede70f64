/** What the outbox records and webhook endpoints subscribe to: one list, the type derived from it. */
export const eventTypes = [
  'variant.ready',
  'variant.failed',
  // A create that may or may not have reached the provider: waits for a person's resubmit.
  'variant.held',
  'variant.approved',
  'variant.delivered',
  'run.completed',
] as const;

export type EventType = (typeof eventTypes)[number];
