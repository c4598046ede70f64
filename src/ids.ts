import { monotonicFactory } from 'ulid';

export const idPrefixes = {
  tenant: 'ten',
  apiKey: 'key',
  campaign: 'cmp',
  matrix: 'mtx',
  run: 'run',
  variant: 'var',
  asset: 'ast',
  webhookEndpoint: 'whe',
  event: 'evt',
  delivery: 'dlv',
} as const;

export type IdKind = keyof typeof idPrefixes;

// Monotonic so ids sort in creation order even within one millisecond: list cursors rely on it.
const ulid = monotonicFactory();

export function newId(kind: IdKind): string {
  return `${idPrefixes[kind]}_${ulid().toLowerCase()}`;
}

export function hasPrefix(id: string, kind: IdKind): boolean {
  return id.startsWith(`${idPrefixes[kind]}_`);
}
