import type { MatrixDocument } from '../db/schema.ts';

export interface ReportDimension {
  key: string;
  label: string;
  /** Level keys in matrix order; the first is the reference level. */
  levels: string[];
  labels: string[];
  index: Map<string, number>;
}

/**
 * The dimensions a report analyses, from the matrices of the runs it covers, oldest run first.
 * With one matrix (the usual case) they are that matrix's dimensions and level order exactly.
 * A later matrix can only append: new dimensions after the known ones and new levels after a
 * dimension's known levels, so the reference level stays the first one ever listed.
 */
export function mergeDimensions(documents: readonly MatrixDocument[]): ReportDimension[] {
  const dims: ReportDimension[] = [];
  const byKey = new Map<string, ReportDimension>();
  for (const doc of documents) {
    for (const d of doc.dimensions) {
      let dim = byKey.get(d.key);
      if (!dim) {
        dim = { key: d.key, label: d.label, levels: [], labels: [], index: new Map() };
        byKey.set(d.key, dim);
        dims.push(dim);
      }
      for (const level of d.levels) addLevel(dim, level.key, level.label);
    }
  }
  return dims;
}

function addLevel(dim: ReportDimension, key: string, label: string): number {
  const known = dim.index.get(key);
  if (known !== undefined) return known;
  dim.index.set(key, dim.levels.length);
  dim.levels.push(key);
  dim.labels.push(label);
  return dim.levels.length - 1;
}

/**
 * The index of a variant's level in its dimension, or −1 when the variant has none (its
 * matrix lacked the dimension). A level no matrix lists — which the fan-out never produces —
 * is appended rather than dropped, so its numbers are still shown.
 */
export function levelOf(dim: ReportDimension, levels: Readonly<Record<string, string>>): number {
  const key = levels[dim.key];
  if (key === undefined) return -1;
  return dim.index.get(key) ?? addLevel(dim, key, key);
}
