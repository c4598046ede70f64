import { randomBytes } from 'node:crypto';
import {
  effectiveOutcome,
  endsAtMs,
  isRunning,
  peakConcurrency,
  type Rule,
  renderOutcomeOf,
  resolveBehaviour,
  viewVideo,
} from './behaviour.ts';
import { invalid, rateLimited } from './errors.ts';
import type {
  Behaviour,
  CreateCall,
  FakeVideoRecord,
  Limits,
  Outcome,
  RequestLogEntry,
  ResolvedBehaviour,
  SentWebhook,
  Video,
} from './types.ts';

export interface StoreConfig {
  clock: () => number;
  defaults: Behaviour;
  rpmWindowMs: number;
  concurrencyRetryAfterMs: number;
  expiresAfterMs: number;
}

export interface NewVideo {
  prompt: string;
  model: string;
  seconds: string;
  size: string;
  remixedFrom: string | null;
}

/** All mutable state of one fake server, free of HTTP so the rules are easy to follow. */
export class VideoStore {
  readonly config: StoreConfig;
  readonly records = new Map<string, FakeVideoRecord>();
  readonly calls: CreateCall[] = [];
  readonly requests: RequestLogEntry[] = [];
  readonly sentWebhooks: SentWebhook[] = [];
  rules: Rule[] = [];
  limits: Required<Limits> = { rpm: null, maxConcurrent: null };
  count429 = 0;
  /** `GET /videos` answers `status` this many more times (failLists). */
  listFailures = { left: 0, status: 502 };
  private seq = 0;
  private rpmHits: number[] = [];
  private attempts = new Map<string, number>();

  constructor(config: StoreConfig) {
    this.config = config;
  }

  now(): number {
    return this.config.clock();
  }

  reset(): void {
    this.records.clear();
    this.calls.length = 0;
    this.requests.length = 0;
    this.sentWebhooks.length = 0;
    this.count429 = 0;
    this.listFailures = { left: 0, status: 502 };
    this.rpmHits = [];
    this.attempts.clear();
  }

  recordCall(call: CreateCall): CreateCall {
    this.calls.push(call);
    return call;
  }

  countCalls(match?: string | RegExp): number {
    if (match === undefined) return this.calls.length;
    return this.calls.filter((c) =>
      typeof match === 'string'
        ? c.prompt === match
        : new RegExp(match.source, match.flags.replace(/[gy]/g, '')).test(c.prompt),
    ).length;
  }

  /** Sliding window; only admitted submissions count against it, like token buckets do. */
  admitRate(nowMs: number): void {
    const { rpm } = this.limits;
    if (rpm === null) return;
    const windowMs = this.config.rpmWindowMs;
    this.rpmHits = this.rpmHits.filter((t) => t > nowMs - windowMs);
    const oldest = this.rpmHits[0];
    if (this.rpmHits.length >= rpm && oldest !== undefined) {
      throw rateLimited(
        `Rate limit reached for requests: limit ${rpm} per ${windowMs} ms. Please try again later.`,
        oldest + windowMs - nowMs,
      );
    }
    this.rpmHits.push(nowMs);
  }

  runningCount(nowMs = this.now()): number {
    let n = 0;
    for (const r of this.records.values()) if (isRunning(r, nowMs)) n++;
    return n;
  }

  admitConcurrency(nowMs: number): void {
    const cap = this.limits.maxConcurrent;
    if (cap === null) return;
    const running = [...this.records.values()].filter((r) => isRunning(r, nowMs));
    if (running.length < cap) return;
    const soonest = Math.min(...running.map(endsAtMs));
    const wait = Number.isFinite(soonest) ? soonest - nowMs : this.config.concurrencyRetryAfterMs;
    throw rateLimited(
      `Too many running tasks: ${running.length} renders are queued or in progress (limit ${cap}).`,
      wait,
    );
  }

  /** Picks the behaviour and spends one `failTimes` attempt for this prompt. */
  resolve(call: CreateCall): { behaviour: ResolvedBehaviour; outcome: Outcome } {
    const behaviour = resolveBehaviour(this.rules, this.config.defaults, call);
    const prior = this.attempts.get(call.prompt) ?? 0;
    this.attempts.set(call.prompt, prior + 1);
    return { behaviour, outcome: effectiveOutcome(behaviour, prior) };
  }

  create(
    v: NewVideo,
    behaviour: ResolvedBehaviour,
    outcome: Outcome,
    atMs: number,
  ): FakeVideoRecord {
    const record: FakeVideoRecord = {
      ...v,
      id: `video_${randomBytes(16).toString('hex')}`,
      seq: this.seq++,
      createdAtMs: atMs,
      renderOutcome: renderOutcomeOf(outcome),
      behaviour,
      deletedAtMs: null,
    };
    this.records.set(record.id, record);
    return record;
  }

  live(id: string): FakeVideoRecord | undefined {
    const r = this.records.get(id);
    return r && r.deletedAtMs === null ? r : undefined;
  }

  view(r: FakeVideoRecord, nowMs = this.now()): Video {
    return viewVideo(r, nowMs, this.config.expiresAfterMs);
  }

  peakConcurrent(): number {
    return peakConcurrency(this.records.values());
  }

  list(q: { after: string | undefined; limit: number; order: 'asc' | 'desc' }) {
    const all = [...this.records.values()].sort((a, b) =>
      q.order === 'asc' ? a.seq - b.seq : b.seq - a.seq,
    );
    let start = 0;
    if (q.after !== undefined) {
      // Deleted videos stay findable as cursors so paging survives a delete between pages.
      const i = all.findIndex((r) => r.id === q.after);
      if (i < 0) throw invalid(`No video found with id '${q.after}' for 'after'.`, 'after');
      start = i + 1;
    }
    const rest = all.slice(start).filter((r) => r.deletedAtMs === null);
    const nowMs = this.now();
    const data = rest.slice(0, q.limit).map((r) => this.view(r, nowMs));
    return {
      object: 'list' as const,
      data,
      has_more: rest.length > q.limit,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
    };
  }
}
