import type {
  Behaviour,
  BehaviourFn,
  BehaviourRule,
  BehaviourSpec,
  CreateCall,
  FakeVideoRecord,
  Outcome,
  RenderOutcome,
  ResolvedBehaviour,
  Video,
} from './types.ts';

export const BUILTIN_DEFAULTS: ResolvedBehaviour = {
  outcome: 'completed',
  queuedMs: 10,
  renderMs: 30,
  progressSteps: 4,
  failTimes: Number.POSITIVE_INFINITY,
  retryAfterMs: 1000,
  createAnyway: false,
  createDelayMs: 0,
  contentDelayMs: 0,
  contentChunkDelayMs: 0,
  contentChunkBytes: 512,
  hidePrompt: false,
};

export type Rule = BehaviourFn | BehaviourRule;

export function rulesOf(spec: BehaviourSpec | undefined): Rule[] {
  if (spec === undefined) return [];
  if (typeof spec === 'function') return [spec];
  if (Array.isArray(spec)) return [...(spec as readonly Rule[])];
  return [spec as BehaviourRule];
}

function matches(match: string | RegExp, prompt: string): boolean {
  if (typeof match === 'string') return prompt.includes(match);
  // A global/sticky RegExp keeps lastIndex between calls, which would make matching flaky.
  match.lastIndex = 0;
  return match.test(prompt);
}

function defined(b: Behaviour): Behaviour {
  return Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) as Behaviour;
}

export function resolveBehaviour(
  rules: readonly Rule[],
  defaults: Behaviour,
  call: CreateCall,
): ResolvedBehaviour {
  let picked: Behaviour = {};
  for (const rule of rules) {
    if (typeof rule === 'function') {
      const b = rule(call.prompt, call);
      if (b) {
        picked = b;
        break;
      }
    } else if (matches(rule.match, call.prompt)) {
      const { match: _match, ...b } = rule;
      picked = b;
      break;
    }
  }
  return { ...BUILTIN_DEFAULTS, ...defined(defaults), ...defined(picked) };
}

/** `failTimes` has run out: the submission behaves as a plain success. */
export function effectiveOutcome(b: ResolvedBehaviour, priorAttempts: number): Outcome {
  return priorAttempts >= b.failTimes ? 'completed' : b.outcome;
}

export function renderOutcomeOf(outcome: Outcome): RenderOutcome {
  switch (outcome) {
    case 'failed_moderation':
    case 'failed':
    case 'never_finish':
      return outcome;
    default:
      return 'completed';
  }
}

/** Clock ms at which the render reached its final status; Infinity if it never does. */
export function endsAtMs(r: FakeVideoRecord): number {
  if (r.renderOutcome === 'never_finish') return Number.POSITIVE_INFINITY;
  return r.createdAtMs + r.behaviour.queuedMs + r.behaviour.renderMs;
}

export function isRunning(r: FakeVideoRecord, nowMs: number): boolean {
  return r.deletedAtMs === null && r.createdAtMs <= nowMs && nowMs < endsAtMs(r);
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

function progressAt(renderElapsedMs: number, b: ResolvedBehaviour): number {
  const steps = Math.max(1, Math.floor(b.progressSteps));
  if (b.renderMs <= 0) return 0;
  const step = Math.min(steps - 1, Math.floor((renderElapsedMs / b.renderMs) * steps));
  return Math.floor((step * 100) / steps);
}

export function failureError(r: FakeVideoRecord): { code: string; message: string } {
  const o = r.behaviour.error;
  const moderation = r.renderOutcome === 'failed_moderation';
  return {
    code: o?.code ?? (moderation ? 'moderation_blocked' : 'internal_error'),
    message:
      o?.message ??
      (moderation
        ? 'Your request was blocked by our moderation system.'
        : 'Video generation failed. Please try again.'),
  };
}

/** Status is a pure function of the clock, so nothing needs timers and tests stay deterministic. */
export function viewVideo(r: FakeVideoRecord, nowMs: number, expiresAfterMs: number): Video {
  const b = r.behaviour;
  const base = {
    id: r.id,
    object: 'video' as const,
    created_at: seconds(r.createdAtMs),
    completed_at: null,
    expires_at: null,
    error: null,
    model: r.model,
    prompt: b.hidePrompt ? null : r.prompt,
    seconds: r.seconds,
    size: r.size as Video['size'],
    remixed_from_video_id: r.remixedFrom,
  };
  const elapsed = nowMs - r.createdAtMs;
  if (elapsed < b.queuedMs) return { ...base, status: 'queued', progress: 0 };
  const renderElapsed = elapsed - b.queuedMs;
  if (r.renderOutcome === 'never_finish' || renderElapsed < b.renderMs) {
    return { ...base, status: 'in_progress', progress: progressAt(renderElapsed, b) };
  }
  const end = endsAtMs(r);
  if (r.renderOutcome === 'completed') {
    return {
      ...base,
      status: 'completed',
      progress: 100,
      completed_at: seconds(end),
      expires_at: seconds(end + expiresAfterMs),
    };
  }
  return { ...base, status: 'failed', progress: progressAt(b.renderMs, b), error: failureError(r) };
}

/** The real API answers a create with a fresh `queued` object, whatever happens next. */
export function viewAtCreate(r: FakeVideoRecord, expiresAfterMs: number): Video {
  return { ...viewVideo(r, r.createdAtMs, expiresAfterMs), status: 'queued', progress: 0 };
}

/** Sweep over [created, end) intervals; ends sort before starts at the same instant. */
export function peakConcurrency(records: Iterable<FakeVideoRecord>): number {
  const events: Array<[number, number]> = [];
  for (const r of records) {
    const end = r.deletedAtMs === null ? endsAtMs(r) : Math.min(endsAtMs(r), r.deletedAtMs);
    if (end <= r.createdAtMs) continue;
    events.push([r.createdAtMs, 1], [end, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let peak = 0;
  for (const [, delta] of events) {
    current += delta;
    peak = Math.max(peak, current);
  }
  return peak;
}

export interface ManualClock {
  now: () => number;
  advance: (ms: number) => void;
  set: (ms: number) => void;
}

/** For `clock`: time moves only when the test says so. */
export function manualClock(startMs = Date.now()): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}
