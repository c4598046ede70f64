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

function shown(delimiter: string): string {
  return delimiter === '\t' ? 'tab' : `"${delimiter}"`;
}

/**
 * Why a row's field count differs from the header's, or undefined when it does not. Every row
 * must have exactly the header's fields (`a,` has two): a short row is usually a line written
 * with another delimiter, whose cells would otherwise be read as one level or value.
 */
export function fieldCountProblem(
  fields: number,
  headerFields: number,
  cells: readonly string[],
  delimiter: string,
): string | undefined {
  if (fields === headerFields) return undefined;
  const base = `row has ${fields} field${fields === 1 ? '' : 's'} but the header has ${headerFields}`;
  const other = delimiters.find((d) => d !== delimiter && cells.some((cell) => cell.includes(d)));
  if (!other) return base;
  return `${base}; the row contains ${shown(other)} but the header is separated by ${shown(delimiter)}: use one delimiter throughout`;
}
