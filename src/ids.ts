import { monotonicFactory } from 'ulid';

const idPrefixes = {
  tenant: 'ten',
  apiKey: 'key',
  campaign: 'cmp',
  matrix: 'mtx',
  run: 'run',
  variant: 'var',
  shot: 'sht',
  asset: 'ast',
  webhookEndpoint: 'whe',
  event: 'evt',
  delivery: 'dlv',
} as const;

type IdKind = keyof typeof idPrefixes;

// Monotonic so ids sort in creation order even within one millisecond: list cursors rely on it.
const ulid = monotonicFactory();

export function newId(kind: IdKind): string {
  return `${idPrefixes[kind]}_${ulid().toLowerCase()}`;
}
