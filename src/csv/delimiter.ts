const delimiters = [',', ';', '\t'] as const;

/**
 * The delimiter used most often outside quotes on the first line: Excel exports ';' in some
 * locales and tab for "Unicode Text", and users upload whatever it gave them.
 */
export function sniffDelimiter(head: string): string {
  const counts = new Map<string, number>(delimiters.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of head) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && counts.has(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best = ',';
  for (const [d, n] of counts) if (n > (counts.get(best) ?? 0)) best = d;
  return best;
}
