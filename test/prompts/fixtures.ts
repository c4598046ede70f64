import type { NormalizedDimension, NormalizedLevel } from '../../src/matrices/parse/index.ts';
import type { Brief } from '../../src/prompts/index.ts';

/** `level('paris')` or `level('paris', 'Paris', 'on a Paris rooftop')`. */
export function level(key: string, label = key, prompt?: string): NormalizedLevel {
  return prompt === undefined ? { key, label } : { key, label, prompt };
}

export function dim(key: string, levels: NormalizedLevel[]): NormalizedDimension {
  return { key, label: key, levels };
}

export const brief: Brief = {
  product: 'Fizz Cola',
  key_message: 'Refreshment that travels',
  audience: 'young urban professionals',
  avoid: ['alcohol', 'smoking'],
};

/** Deterministic PRNG (mulberry32) so randomized tests replay exactly. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
