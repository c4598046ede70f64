import type { DesignErrorCode, DesignErrorDetails } from './types.ts';

/**
 * The only error type the design library throws on bad input or impossible requests; anything
 * else escaping is a bug. `details` is plain JSON (no bigint) so it can go straight into an
 * HTTP problem response.
 */
export class DesignError extends Error {
  readonly code: DesignErrorCode;
  readonly details: DesignErrorDetails;

  constructor(code: DesignErrorCode, message: string, details: DesignErrorDetails = {}) {
    super(message);
    this.name = 'DesignError';
    this.code = code;
    this.details = details;
  }
}

/** `atLeast`: count is a lower bound (pairwise refuses before searching). */
export function tooManyVariants(
  count: bigint | number,
  limit: number,
  atLeast = false,
): DesignError {
  const exact = BigInt(count);
  const amount = atLeast ? `at least ${exact}` : `${exact}`;
  return new DesignError(
    'too_many_variants',
    `design would produce ${amount} variants, more than the limit of ${limit}`,
    { count: Number(exact), count_exact: exact.toString(), limit },
  );
}
