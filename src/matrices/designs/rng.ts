/**
 * Small seeded PRNG (mulberry32). Designs must be reproducible from their seed across Node
 * versions and machines, so Math.random is never used in this library.
 */
export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** Finaliser from splitmix32/murmur3: spreads nearby seeds over the whole state space. */
function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Folds any safe integer (negative or above 2^32 included) and a stream id into 32 bits. */
function deriveSeed(seed: number, stream = 0): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x100000000) >>> 0;
  return mix32(mix32(lo ^ 0x9e3779b9) ^ mix32(hi + 0x7f4a7c15) ^ mix32(stream + 0x632be5ab));
}

export function createRng(seed: number, stream = 0): Rng {
  let state = deriveSeed(seed, stream);
  const u32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => u32() / 0x100000000;
  return { u32, next, int: (n: number) => Math.floor(next() * n) };
}

export function shuffleInPlace<T>(items: T[] | Int32Array, rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
}

/** Uniform bigint in [0, bound) by rejection on whole 32-bit chunks (no modulo bias). */
export function randomBigBelow(bound: bigint, rng: Rng): bigint {
  if (bound <= 0n) throw new RangeError('bound must be positive');
  const bits = bound.toString(2).length;
  const chunks = Math.ceil(bits / 32);
  const mask = (1n << BigInt(bits)) - 1n;
  for (;;) {
    let r = 0n;
    for (let c = 0; c < chunks; c++) r = (r << 32n) | BigInt(rng.u32());
    r &= mask;
    if (r < bound) return r;
  }
}
