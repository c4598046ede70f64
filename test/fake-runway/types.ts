import type { ReceivedImage } from '../fake-provider/image.ts';

/** What a test can make the fake Runway do with a create, chosen by the prompt (first rule wins). */
export type RunwayOutcome =
  /** PENDING → RUNNING → SUCCEEDED. */
  | 'succeeded'
  /** PENDING → RUNNING → FAILED with `failureCode` (default `INTERNAL`) and `cost: {credits: 0}`. */
  | 'failed'
  /** RUNNING forever, holding its concurrency slot. */
  | 'never_finish'
  /** 400 `{"error": message}` at create; nothing stored. */
  | 'reject_400'
  /** `errorStatus` (default 500) at create; with `createAnyway` the task exists all the same. */
  | 'error_5xx'
  /** The task is created, then the socket is destroyed before any reply. */
  | 'drop_reply';

export interface RunwayBehaviour {
  outcome?: RunwayOutcome | undefined;
  failureCode?: string | undefined;
  failure?: string | undefined;
  message?: string | undefined;
  errorStatus?: number | undefined;
  createAnyway?: boolean | undefined;
  /** The outcome applies to this many creates of the prompt, later ones succeed. */
  failTimes?: number | undefined;
  pendingMs?: number | undefined;
  renderMs?: number | undefined;
  progressSteps?: number | undefined;
  /** Delay before answering a create (after storing the task): for client timeouts. */
  createDelayMs?: number | undefined;
  /** Serve the output in 512-byte chunks this far apart (proves the client streams). */
  outputChunkDelayMs?: number | undefined;
}

export type ResolvedBehaviour = Required<{
  [K in keyof RunwayBehaviour]-?: Exclude<RunwayBehaviour[K], undefined>;
}>;

export interface RunwayRule extends RunwayBehaviour {
  /** A string matches prompts containing it; a RegExp is tested. */
  match: string | RegExp;
}

export interface FakeRunwayOptions {
  port?: number | undefined;
  host?: string | undefined;
  /** The Bearer token the fake accepts; default `test-runway-key`. */
  apiKey?: string | undefined;
  clock?: (() => number) | undefined;
  /** Per model: tasks above it wait THROTTLED. Default 2. */
  maxConcurrent?: number | undefined;
  /** Per model creates per rolling day; above it a 429 with Retry-After. Default none. */
  dailyLimit?: number | null | undefined;
  /** Lifetime of a minted output URL; default 24 h. */
  outputTtlMs?: number | undefined;
  creditBalance?: number | undefined;
  defaults?: RunwayBehaviour | undefined;
  behave?: readonly RunwayRule[] | undefined;
  /** Outputs at the requested ratio and duration (default); false = a tiny 64x64 1 s clip. */
  mediaMatchesRequest?: boolean | undefined;
  logger?: boolean | undefined;
  /**
   * How the fake fetches an HTTPS `promptImage` (Runway's servers would): a HEAD that must
   * answer 200 with Content-Type and Content-Length and no redirect, then a GET. Without it
   * URLs are checked for form only. Tests route the public host to the api under test.
   */
  fetchImage?: ((url: string, method: 'HEAD' | 'GET') => Promise<Response>) | undefined;
}

export interface FakeTask {
  id: string;
  route: 'text_to_video' | 'image_to_video';
  model: string;
  promptText: string;
  ratio: string;
  duration: number;
  audio: boolean;
  promptImage: unknown;
  createdAtMs: number;
  /** When it got a concurrency slot (PENDING from then on); null while THROTTLED. */
  slotAtMs: number | null;
  releasedAtMs: number | null;
  cancelledAtMs: number | null;
  deleted: boolean;
  estimatedCredits: number;
  behaviour: ResolvedBehaviour;
  outcome: 'succeeded' | 'failed' | 'never_finish';
}

/** A first frame as the fake received it: inline bytes, or fetched from its URL (`fetchImage`). */
export interface RunwayReceivedImage extends ReceivedImage {
  source: 'data_uri' | 'url';
  url?: string | undefined;
}

export interface CreateCall {
  at: number;
  route: string;
  prompt: string;
  body: Record<string, unknown>;
  /** image_to_video: the first frame's type, size and hash (undefined for an unfetched URL). */
  image?: RunwayReceivedImage | undefined;
  /** HTTP status answered; 0 when the socket was dropped. */
  status: number;
  taskId: string | undefined;
}

export interface RequestLog {
  at: number;
  method: string;
  url: string;
  status: number;
}

export interface FakeRunwayServer {
  /** Loopback origin: also the SDK's `baseURL` (Runway's base has no /v1). */
  url: string;
  apiKey: string;
  when(match: string | RegExp, behaviour: RunwayBehaviour): void;
  behave(rules: readonly RunwayRule[]): void;
  setLimits(limits: { maxConcurrent?: number; dailyLimit?: number | null }): void;
  /** The daily-cap switch: every create answers 429 with `Retry-After: retryAfterS`. */
  setDailyCapReached(reached: boolean, retryAfterS?: number): void;
  /** The next `n` reads of `/v1/tasks/*` answer `status` (default 502). */
  failReads(n: number, status?: number): void;
  /** The next `n` GETs of a SUCCEEDED task hand out output URLs that have already expired. */
  staleOutputs(n: number): void;
  readonly createCalls: readonly CreateCall[];
  /** Creates whose prompt equals `prompt` (refused ones included, 401s not). */
  createCount(prompt: string): number;
  readonly tasks: ReadonlyMap<string, FakeTask>;
  /** The task as `GET /v1/tasks/{id}` would answer now (without minting URLs). */
  statusOf(id: string): string | undefined;
  peakConcurrent(model: string): number;
  readonly requests: readonly RequestLog[];
  /** Output fetches: URL path and status. */
  readonly outputFetches: readonly { path: string; status: number }[];
  reset(): void;
  close(): Promise<void>;
}
