const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Delay before each attempt, indexed by the number of attempts already made: the first attempt
 * goes out immediately and the eighth about 27.5 h after the first (the Standard Webhooks /
 * Svix schedule), long enough to ride out a receiver's overnight outage.
 */
export const retrySchedule: readonly number[] = Object.freeze([
  0,
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
]);

export const MAX_ATTEMPTS = retrySchedule.length;

/** ±20%, so endpoints that failed together (one receiver outage) do not retry in lockstep. */
export const RETRY_JITTER = 0.2;

/** A Retry-After is honoured up to this; a receiver cannot park a delivery for days. */
export const MAX_RETRY_AFTER_MS = 24 * HOUR;

export interface NextAttemptOptions {
  /** From a `throttled` attempt: waited for when longer than the schedule. */
  retryAfterMs?: number;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * Milliseconds to wait before the next attempt after `attemptsMade` attempts, or null when the
 * delivery should be given up.
 */
export function nextAttemptDelay(
  attemptsMade: number,
  options: NextAttemptOptions = {},
): number | null {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 0)
    throw new RangeError(`attemptsMade must be a non-negative integer, got ${attemptsMade}`);
  const base = retrySchedule[attemptsMade];
  if (base === undefined) return null;
  const random = options.random ?? Math.random;
  const jittered = Math.round(base * (1 + (random() * 2 - 1) * RETRY_JITTER));
  const { retryAfterMs } = options;
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > jittered)
    return Math.min(Math.ceil(retryAfterMs), MAX_RETRY_AFTER_MS);
  return jittered;
}
