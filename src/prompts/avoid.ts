/**
 * Negative guidance for video models without a negative-prompt field (both providers today).
 *
 * The clause goes on its own line, `\nAvoid: a, b.`, whatever the prompt ends with. A fixed
 * separator keeps its length independent of the variant, so the worst-case prompt length of a
 * matrix is exact rather than an estimate, and a prompt writer can find and keep it verbatim.
 */

export const AVOID_SEPARATOR = '\n';

/**
 * `Avoid: alcohol, smoking.` or '' when there is nothing to avoid. Items are trimmed, trailing
 * punctuation is dropped (so `smoking.` does not end the clause in `..`) and case-insensitive
 * repeats are kept once, in first-seen order, so the clause is a pure function of the list.
 */
export function avoidClause(avoid: readonly string[] | undefined): string {
  if (!avoid || avoid.length === 0) return '';
  const items: string[] = [];
  const seen = new Set<string>();
  for (const raw of avoid) {
    const item = raw.trim().replace(/[\s.,;:]+$/u, '');
    const folded = item.toLowerCase();
    if (item === '' || seen.has(folded)) continue;
    seen.add(folded);
    items.push(item);
  }
  return items.length === 0 ? '' : `Avoid: ${items.join(', ')}.`;
}

/** The text withAvoid appends: separator + clause, or '' when there is nothing to avoid. */
export function avoidSuffix(avoid: readonly string[] | undefined): string {
  const clause = avoidClause(avoid);
  return clause === '' ? '' : AVOID_SEPARATOR + clause;
}

export function withAvoid(prompt: string, avoid: readonly string[] | undefined): string {
  return prompt + avoidSuffix(avoid);
}
