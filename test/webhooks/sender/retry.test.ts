import { describe, expect, it } from 'vitest';
import {
  MAX_ATTEMPTS,
  MAX_RETRY_AFTER_MS,
  nextAttemptDelay,
  retrySchedule,
} from '../../../src/webhooks/sender/index.ts';

const s = 1000;
const min = 60 * s;
const h = 60 * min;

/** mulberry32: a small seeded PRNG, so jitter runs are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const middle = () => 0.5;

describe('retrySchedule', () => {
  it('is immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 8 attempts', () => {
    expect(retrySchedule).toEqual([0, 5 * s, 5 * min, 30 * min, 2 * h, 5 * h, 10 * h, 10 * h]);
    expect(MAX_ATTEMPTS).toBe(8);
    expect(Object.isFrozen(retrySchedule)).toBe(true);
  });
});

describe('nextAttemptDelay', () => {
  it('follows the schedule without jitter at the midpoint, then gives up', () => {
    const delays = Array.from({ length: 10 }, (_, n) => nextAttemptDelay(n, { random: middle }));
    expect(delays).toEqual([...retrySchedule, null, null]);
  });

  it('jitters by at most ±20%, reaching both ends', () => {
    expect(nextAttemptDelay(1, { random: () => 0 })).toBe(4 * s);
    expect(nextAttemptDelay(1, { random: () => 0.999_999_9 })).toBe(6 * s);
    expect(nextAttemptDelay(6, { random: () => 0 })).toBe(8 * h);
    expect(nextAttemptDelay(6, { random: () => 0.999_999_9 })).toBe(12 * h - 1);
  });

  it('stays within bounds and actually spreads, over many seeded draws', () => {
    const random = seeded(42);
    for (let n = 1; n < MAX_ATTEMPTS; n++) {
      const base = retrySchedule[n]!;
      const seen = new Set<number>();
      for (let i = 0; i < 500; i++) {
        const delay = nextAttemptDelay(n, { random })!;
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
        expect(delay).toBeLessThanOrEqual(Math.ceil(base * 1.2));
        expect(Number.isInteger(delay)).toBe(true);
        seen.add(delay);
      }
      expect(seen.size).toBeGreaterThan(100);
    }
  });

  it('is reproducible with the same seed', () => {
    const run = (seed: number) => {
      const random = seeded(seed);
      return Array.from({ length: MAX_ATTEMPTS + 1 }, (_, n) => nextAttemptDelay(n, { random }));
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('the first attempt is immediate whatever the jitter', () => {
    expect(nextAttemptDelay(0, { random: () => 0.999 })).toBe(0);
  });

  it('waits for a Retry-After longer than the schedule', () => {
    expect(nextAttemptDelay(1, { retryAfterMs: 7000, random: middle })).toBe(7000);
    expect(nextAttemptDelay(2, { retryAfterMs: 45 * min, random: middle })).toBe(45 * min);
    expect(nextAttemptDelay(1, { retryAfterMs: 7000.2, random: middle })).toBe(7001);
  });

  it('keeps the schedule when Retry-After is shorter', () => {
    expect(nextAttemptDelay(3, { retryAfterMs: 7000, random: middle })).toBe(30 * min);
    expect(nextAttemptDelay(1, { retryAfterMs: 0, random: () => 0 })).toBe(4 * s);
  });

  it('caps Retry-After at 24 h', () => {
    expect(MAX_RETRY_AFTER_MS).toBe(24 * h);
    expect(nextAttemptDelay(1, { retryAfterMs: 3 * 24 * h, random: middle })).toBe(24 * h);
    expect(nextAttemptDelay(1, { retryAfterMs: Number.POSITIVE_INFINITY, random: middle })).toBe(
      5 * s,
    );
  });

  it('gives up after the last attempt even when asked to come back later', () => {
    expect(nextAttemptDelay(MAX_ATTEMPTS, { retryAfterMs: 7000 })).toBeNull();
  });

  it.each([-1, 1.5, Number.NaN])('rejects attemptsMade = %s', (n) => {
    expect(() => nextAttemptDelay(n)).toThrow(RangeError);
  });
});
