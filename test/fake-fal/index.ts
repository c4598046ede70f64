export {
  type FakeFal,
  type FakeFalOptions,
  type FalBehaviour,
  type FalOutcome,
  MARKERS,
  mediaSpecOf,
  startFakeFal,
} from './server.ts';
export {
  type FalSigningKey,
  generateFalKey,
  type SentFalWebhook,
  signFalWebhook,
} from './webhooks.ts';
