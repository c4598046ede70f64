import { runCli, type Spawned } from './process.ts';

/**
 * An api or worker as its own process (the `admatrix api|worker` command), as deployed. Its
 * start is read from its log, so env must keep LOG_LEVEL at info or below.
 */
export interface Service {
  proc: Spawned;
  /** The api's base URL; empty for a worker. */
  url: string;
  /** SIGTERM, then waits for the graceful exit (SIGKILL at the deadline). */
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export async function startService(
  role: 'api' | 'worker',
  env: Record<string, string>,
): Promise<Service> {
  const proc = runCli([role], role === 'api' ? { HOST: '127.0.0.1', PORT: '0', ...env } : env);
  let url = '';
  if (role === 'api') {
    const m = await proc.waitForOutput(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/, 60_000);
    url = m[1]!;
  } else {
    await proc.waitForOutput(/"worker started"/, 60_000);
  }
  const exited = () => proc.child.exitCode !== null || proc.child.signalCode !== null;
  return {
    proc,
    url,
    async stop() {
      if (exited()) return;
      proc.child.kill('SIGTERM');
      await proc.exited(30_000);
    },
    async kill() {
      if (exited()) return;
      proc.child.kill('SIGKILL');
      await proc.exited(10_000);
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: string;
  /** Milliseconds from sending to the whole body. */
  ms: number;
  json<T = Record<string, unknown>>(): T;
}

/** fetch against a process's api, with the tenant's key; a hang is an error after timeoutMs. */
export async function call(
  base: string,
  auth: string,
  method: string,
  path: string,
  body?: unknown,
  opts: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Reply> {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: auth,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...opts.headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text,
    ms: performance.now() - started,
    json: <T>() => JSON.parse(text) as T,
  };
}

/** A campaign with a full-factorial matrix of the given levels, and its run, through HTTP. */
export async function startCampaignRun(
  base: string,
  auth: string,
  levels: Record<string, string[]>,
  key: string,
): Promise<{ campaignId: string; runId: string; variantCount: number }> {
  const dims = Object.keys(levels);
  const campaign = await call(base, auth, 'POST', '/v1/campaigns', {
    name: `Processes ${key}`,
    brief: { product: 'Fizz', key_message: 'Cold' },
    prompt_template: `Ad ${key} for {{brief.product}}: ${dims.map((d) => `{{${d}}}`).join(' / ')}`,
    video: { provider: 'openai', seconds: 4, size: '720x1280' },
  });
  if (campaign.status !== 201) throw new Error(`campaign: ${campaign.body}`);
  const campaignId = campaign.json().id as string;
  const matrix = await call(base, auth, 'POST', `/v1/campaigns/${campaignId}/matrices`, {
    dimensions: dims.map((d) => ({ key: d, levels: levels[d]!.map((l) => ({ key: l })) })),
  });
  if (matrix.status !== 201) throw new Error(`matrix: ${matrix.body}`);
  const run = await call(
    base,
    auth,
    'POST',
    `/v1/campaigns/${campaignId}/runs`,
    { matrix_id: matrix.json().id, design: { type: 'full' } },
    { headers: { 'idempotency-key': key } },
  );
  if (run.status !== 202) throw new Error(`run: ${run.status} ${run.body}`);
  const created = run.json<{ id: string; variant_count: number }>();
  return { campaignId, runId: created.id, variantCount: created.variant_count };
}
