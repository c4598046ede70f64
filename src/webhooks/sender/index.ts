export {
  BlockedAddressError,
  deniedAddressReason,
} from './address-policy.ts';
export {
  MAX_ATTEMPTS,
  MAX_RETRY_AFTER_MS,
  type NextAttemptOptions,
  nextAttemptDelay,
  RETRY_JITTER,
  retrySchedule,
} from './retry.ts';
export {
  type AttemptOutcome,
  type AttemptResult,
  createWebhookSender,
  parseRetryAfter,
  type SendInput,
  type WebhookSender,
  type WebhookSenderOptions,
} from './send.ts';
export {
  generateWebhookSecret,
  type SignWebhookInput,
  signWebhook,
  WEBHOOK_USER_AGENT,
  type WebhookHeaders,
} from './sign.ts';
export { type EndpointUrlPolicy, MAX_ENDPOINT_URL_LENGTH, validateEndpointUrl } from './url.ts';
