import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { hashApiKey } from '../tenants/service.ts';
import { ProblemError } from './problem.ts';

/**
 * Failed authentications are counted per client address in Redis (a fixed window, shared by
 * every api replica); past the limit the address gets 429 before any key lookup. Valid keys
 * from that address are refused too until the window ends: telling them apart would need the
 * very lookup the limit saves. Behind a proxy, set TRUST_PROXY so the address is the client's.
 */
export interface AuthFailureLimiter {
  /** Milliseconds until the address may try again, or 0 when it is not blocked. */
  blockedFor(address: string): number;
  /** Counts a failure; returns how long the address is now blocked for (0 = not blocked). */
  recordFailure(address: string): Promise<number>;
}

// Bounds the memory an attacker with many addresses can make us hold.
const MAX_TRACKED = 10_000;

export function createAuthFailureLimiter(deps: {
  redis: Redis;
  prefix: string;
  max: number;
  windowMs: number;
  logger: Logger;
}): AuthFailureLimiter {
  // Each replica remembers the addresses it saw go over the limit, so a blocked address costs
  // neither a Postgres lookup nor a Redis round trip; valid requests never touch Redis here.
  const blocked = new LRUCache<string, number>({ max: MAX_TRACKED });
  return {
    blockedFor(address) {
      const until = blocked.get(address);
      if (until === undefined) return 0;
      const left = until - Date.now();
      if (left <= 0) blocked.delete(address);
      return Math.max(0, left);
    },
    async recordFailure(address) {
      const key = `${deps.prefix}:auth-failures:${address}`;
      let count: number;
      let ttl: number;
      try {
        const replies = await deps.redis
          .multi()
          .incr(key)
          .pexpire(key, deps.windowMs, 'NX')
          .pttl(key)
          .exec();
        count = Number(replies?.[0]?.[1]);
        ttl = Number(replies?.[2]?.[1]);
      } catch (err) {
        // Redis down: authentication itself must keep working, unlimited as before.
        deps.logger.debug({ err }, 'could not count a failed authentication');
        return 0;
      }
      if (!(count > deps.max)) return 0;
      const left = ttl > 0 ? ttl : deps.windowMs;
      blocked.set(address, Date.now() + left);
      if (count === deps.max + 1)
        deps.logger.warn(
          { address, failures: count, windowMs: deps.windowMs },
          'too many failed authentications; address blocked for the rest of the window',
        );
      return left;
    },
  };
}

export function tooManyFailures(retryAfterMs: number): ProblemError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ProblemError({
    status: 429,
    slug: 'rate-limited',
    title: 'Too many requests',
    detail: `Too many failed authentications from this address; retry in ${seconds} s.`,
    headers: { 'retry-after': String(seconds) },
  });
}

/**
 * Remembers unknown keys for a few seconds so the same wrong key, retried in a loop, costs one
 * Postgres lookup per TTL rather than one per request. Safe for revocation (that turns a known
 * key unknown, and known keys are never cached). A key unknown a moment ago that becomes valid
 * is the one case it delays, by at most the TTL; keys are random and shown only once created,
 * so a client cannot have tried one before it existed. Holds key hashes, never keys.
 */
export function negativeKeyCache(ttlMs: number) {
  const cache = ttlMs > 0 ? new LRUCache<string, true>({ max: MAX_TRACKED, ttl: ttlMs }) : null;
  return {
    isKnownBad: (key: string) => cache?.has(hashApiKey(key)) ?? false,
    rememberBad: (key: string) => void cache?.set(hashApiKey(key), true),
  };
}
