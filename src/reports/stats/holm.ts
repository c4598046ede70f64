/**
 * Holm–Bonferroni step-down adjusted p-values (Holm 1979).
 *
 * With the m present p-values sorted ascending p(1) ≤ … ≤ p(m), the adjusted value of p(i) is
 * max over j ≤ i of min(1, (m − j + 1)·p(j)); rejecting where adjusted ≤ α is Holm's procedure
 * and controls the family-wise error rate at α. Missing entries (NaN, null, undefined) are not
 * part of the family — they do not count towards m — and come back as NaN in their slot, so
 * the output lines up with the input.
 */
export function holm(pValues: readonly (number | null | undefined)[]): number[] {
  const out = new Array<number>(pValues.length).fill(Number.NaN);
  const present: { p: number; i: number }[] = [];
  pValues.forEach((p, i) => {
    if (p === null || p === undefined || Number.isNaN(p)) return;
    if (p < 0 || p > 1) throw new RangeError(`holm: p-value ${p} at ${i} is outside [0, 1]`);
    present.push({ p, i });
  });
  // Stable sort keeps ties in input order; tied p-values get equal adjusted values anyway.
  present.sort((u, v) => u.p - v.p);
  const m = present.length;
  let running = 0;
  present.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}
