export {
  createRunwayClient,
  createRunwayProvider,
  RUNWAY_FAILURE_CODES,
  RUNWAY_RETRYABLE_FAILURES,
  type RunwayAccount,
  type RunwayProvider,
  type RunwayProviderOptions,
  runwayAccount,
  toStatus as runwayTaskStatus,
} from './adapter.ts';
export * from './catalog.ts';
export { classify as classifyRunwayError } from './errors.ts';
export {
  RUNWAY_DATA_URI_MAX_CHARS,
  RUNWAY_IMAGE_TYPES,
  RUNWAY_INLINE_IMAGE_MAX_BYTES,
  runwayCanFetch,
  runwayImageInput,
} from './image.ts';
