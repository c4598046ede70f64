import { randomBytes, randomUUID } from 'node:crypto';
import type {
  CreateCall,
  FakeTask,
  RequestLog,
  ResolvedBehaviour,
  RunwayBehaviour,
  RunwayRule,
} from './types.ts';

export const BUILTIN: ResolvedBehaviour = {
  outcome: 'succeeded',
  failureCode: 'INTERNAL',
  failure: 'An unexpected error occurred.',
  message: "Invalid parameter 'promptText'",
  errorStatus: 500,
  createAnyway: false,
  failTimes: Number.POSITIVE_INFINITY,
  pendingMs: 10,
  renderMs: 30,
  progressSteps: 4,
  createDelayMs: 0,
  outputChunkDelayMs: 0,
};

const DAY_MS = 24 * 3_600_000;

function defined(b: RunwayBehaviour): RunwayBehaviour {
  return Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined));
}

function matches(match: string | RegExp, prompt: string): boolean {
  if (typeof match === 'string') return prompt.includes(match);
  match.lastIndex = 0;
  return match.test(prompt);
}

/** Tasks, their concurrency slots, minted output URLs and every counter a test reads. */
export class RunwayStore {
  tasks = new Map<string, FakeTask>();
  calls: CreateCall[] = [];
  requests: RequestLog[] = [];
  outputFetches: { path: string; status: number }[] = [];
  rules: RunwayRule[] = [];
  maxConcurrent = 2;
  dailyLimit: number | null = null;
  dailyCap: { retryAfterS: number } | null = null;
  readFailures: { n: number; status: number } = { n: 0, status: 502 };
  staleOutputs = 0;
  private outputs = new Map<string, { taskId: string; expiresAtMs: number }>();
  private lastRelease = new Map<string, number>();
  private peaks = new Map<string, number>();

  readonly now: () => number;
  readonly defaults: RunwayBehaviour;
  readonly outputTtlMs: number;

  constructor(now: () => number, defaults: RunwayBehaviour, outputTtlMs: number) {
    this.now = now;
    this.defaults = defaults;
    this.outputTtlMs = outputTtlMs;
  }

  resolve(prompt: string): ResolvedBehaviour {
    const rule = this.rules.find((r) => matches(r.match, prompt));
    const { match: _m, ...picked } = rule ?? { match: '' };
    const b = { ...BUILTIN, ...defined(this.defaults), ...defined(picked) };
    // `failTimes` counts earlier creates of the same prompt: later ones behave normally.
    const prior = this.calls.filter((c) => c.prompt === prompt).length - 1;
    return prior >= b.failTimes ? { ...b, outcome: 'succeeded' } : b;
  }

  /** Retry-After in seconds when the model's rolling-day cap is reached, else null. */
  dailyCapRetryAfterS(model: string, at: number): number | null {
    if (this.dailyCap) return this.dailyCap.retryAfterS;
    if (this.dailyLimit === null) return null;
    const recent = [...this.tasks.values()]
      .filter((t) => t.model === model && t.createdAtMs > at - DAY_MS)
      .map((t) => t.createdAtMs);
    if (recent.length < this.dailyLimit) return null;
    const oldest = Math.min(...recent);
    return Math.max(1, Math.ceil((oldest + DAY_MS - at) / 1000));
  }

  add(task: Omit<FakeTask, 'id' | 'slotAtMs' | 'releasedAtMs' | 'cancelledAtMs' | 'deleted'>) {
    this.advance(task.createdAtMs);
    const t: FakeTask = {
      ...task,
      id: randomUUID(),
      slotAtMs: null,
      releasedAtMs: null,
      cancelledAtMs: null,
      deleted: false,
    };
    this.tasks.set(t.id, t);
    this.advance(task.createdAtMs);
    return t;
  }

  private endsAt(t: FakeTask): number {
    if (t.slotAtMs === null) return Number.POSITIVE_INFINITY;
    const end =
      t.outcome === 'never_finish'
        ? Number.POSITIVE_INFINITY
        : t.slotAtMs + t.behaviour.pendingMs + t.behaviour.renderMs;
    return t.cancelledAtMs === null ? end : Math.min(end, t.cancelledAtMs);
  }

  /**
   * Replays slot hand-overs up to `now`: each model runs at most `maxConcurrent` tasks, the rest
   * wait THROTTLED and start in submission order as slots free up.
   */
  advance(now: number): void {
    const models = new Set([...this.tasks.values()].map((t) => t.model));
    for (const model of models) {
      const mine = [...this.tasks.values()].filter((t) => t.model === model);
      for (;;) {
        const holders = mine.filter((t) => t.slotAtMs !== null && t.releasedAtMs === null);
        const waiting = mine.find(
          (t) => t.slotAtMs === null && t.cancelledAtMs === null && !t.deleted,
        );
        if (waiting && holders.length < this.maxConcurrent) {
          waiting.slotAtMs = Math.max(waiting.createdAtMs, this.lastRelease.get(model) ?? 0);
          this.peaks.set(model, Math.max(this.peaks.get(model) ?? 0, holders.length + 1));
          continue;
        }
        let next: FakeTask | undefined;
        for (const h of holders) if (!next || this.endsAt(h) < this.endsAt(next)) next = h;
        if (next && this.endsAt(next) <= now) {
          next.releasedAtMs = this.endsAt(next);
          this.lastRelease.set(model, next.releasedAtMs);
          continue;
        }
        break;
      }
    }
  }

  peak(model: string): number {
    return this.peaks.get(model) ?? 0;
  }

  status(t: FakeTask, now: number): string {
    this.advance(now);
    if (t.cancelledAtMs !== null && t.cancelledAtMs <= now) return 'CANCELLED';
    if (t.slotAtMs === null) return 'THROTTLED';
    const elapsed = now - t.slotAtMs;
    if (elapsed < t.behaviour.pendingMs) return 'PENDING';
    if (t.outcome === 'never_finish' || elapsed < t.behaviour.pendingMs + t.behaviour.renderMs)
      return 'RUNNING';
    return t.outcome === 'succeeded' ? 'SUCCEEDED' : 'FAILED';
  }

  private progress(t: FakeTask, now: number): number {
    const b = t.behaviour;
    const steps = Math.max(1, Math.floor(b.progressSteps));
    const ran = now - (t.slotAtMs ?? now) - b.pendingMs;
    if (b.renderMs <= 0) return 0;
    return Math.min(steps - 1, Math.floor((ran / b.renderMs) * steps)) / steps;
  }

  /** `GET /v1/tasks/{id}`; `origin` set = mint fresh output URLs, as Runway does on each GET. */
  view(t: FakeTask, now: number, origin?: string): Record<string, unknown> {
    const status = this.status(t, now);
    const base = { id: t.id, createdAt: new Date(t.createdAtMs).toISOString(), status };
    const estimatedCost = { credits: t.estimatedCredits };
    switch (status) {
      case 'THROTTLED':
      case 'PENDING':
        return { ...base, estimatedCost };
      case 'RUNNING':
        return { ...base, estimatedCost, progress: this.progress(t, now) };
      case 'CANCELLED':
        return { ...base, cost: { credits: 0 } };
      case 'FAILED':
        return {
          ...base,
          failure: t.behaviour.failure,
          failureCode: t.behaviour.failureCode,
          cost: { credits: 0 },
        };
      default: {
        const output = origin ? [this.mint(t, now, origin)] : [];
        return { ...base, output, cost: { credits: t.estimatedCredits } };
      }
    }
  }

  private mint(t: FakeTask, now: number, origin: string): string {
    const token = randomBytes(16).toString('hex');
    const stale = this.staleOutputs > 0;
    if (stale) this.staleOutputs--;
    this.outputs.set(token, {
      taskId: t.id,
      expiresAtMs: stale ? now - 1 : now + this.outputTtlMs,
    });
    return `${origin}/_outputs/${token}/${t.id}.mp4`;
  }

  output(token: string, now: number): FakeTask | 'expired' | undefined {
    const o = this.outputs.get(token);
    if (!o) return undefined;
    if (now >= o.expiresAtMs) return 'expired';
    const t = this.tasks.get(o.taskId);
    return t && !t.deleted ? t : undefined;
  }

  creditsSpent(now: number): number {
    let spent = 0;
    for (const t of this.tasks.values())
      if (this.status(t, now) === 'SUCCEEDED') spent += t.estimatedCredits;
    return spent;
  }

  dailyCount(model: string, now: number): number {
    return [...this.tasks.values()].filter((t) => t.model === model && t.createdAtMs > now - DAY_MS)
      .length;
  }

  reset(): void {
    this.tasks.clear();
    this.calls = [];
    this.requests = [];
    this.outputFetches = [];
    this.outputs.clear();
    this.lastRelease.clear();
    this.peaks.clear();
    this.dailyCap = null;
    this.readFailures = { n: 0, status: 502 };
    this.staleOutputs = 0;
  }
}
