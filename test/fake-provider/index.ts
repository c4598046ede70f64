export { type ManualClock, manualClock } from './behaviour.ts';
export { decodeDataUri, inspectImage, type ReceivedImage } from './image.ts';
export {
  hasFtyp,
  type MediaSpec,
  media as fakeMedia,
  pngImage,
  type Variant,
} from './media.ts';
export { DEFAULT_SECONDS, DEFAULT_SIZES, startFakeVideoServer } from './server.ts';
export type * from './types.ts';
export { waitUntil } from './wait.ts';
export { signWebhook } from './webhooks.ts';
