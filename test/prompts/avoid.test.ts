import { describe, expect, it } from 'vitest';
import { avoidClause, avoidSuffix, withAvoid } from '../../src/prompts/index.ts';

describe('withAvoid', () => {
  it('appends the clause on its own line', () => {
    expect(withAvoid('A playful ad in Paris', ['alcohol', 'smoking'])).toBe(
      'A playful ad in Paris\nAvoid: alcohol, smoking.',
    );
    expect(withAvoid('Ends with a period.', ['alcohol'])).toBe(
      'Ends with a period.\nAvoid: alcohol.',
    );
  });

  it('leaves the prompt alone when there is nothing to avoid', () => {
    expect(withAvoid('x', undefined)).toBe('x');
    expect(withAvoid('x', [])).toBe('x');
    expect(withAvoid('x', ['  ', '.'])).toBe('x');
  });

  it('trims items, drops trailing punctuation and case-insensitive repeats, keeping order', () => {
    expect(avoidClause([' Smoking. ', 'alcohol;', 'smoking', 'ALCOHOL', 'rival logos'])).toBe(
      'Avoid: Smoking, alcohol, rival logos.',
    );
  });

  it('adds exactly avoidSuffix, whose length is the same for every prompt', () => {
    const avoid = ['alcohol'];
    for (const prompt of ['', 'a', 'b.', 'c!\n']) {
      expect(withAvoid(prompt, avoid)).toBe(prompt + avoidSuffix(avoid));
    }
    expect(avoidSuffix(avoid)).toBe('\nAvoid: alcohol.');
  });
});
