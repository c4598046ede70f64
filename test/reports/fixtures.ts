import type { TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun } from '../helpers/scenario.ts';

let runKeys = 0;

/**
 * A campaign, matrix and run made through the API, with an explicit design so the variants'
 * levels are known. No worker runs: the variants stay queued, which reports do not mind.
 * Returns the variant id of each combination, keyed by its levels joined with "|".
 */
export async function campaignWithVariants(
  t: TestApp,
  auth: string,
  levels: Record<string, string[]>,
  combinations: Record<string, string>[],
  existing?: { campaignId: string; matrixId: string },
) {
  const ids = existing ?? (await setupCampaign(t, auth, { levels }));
  const run = await startRun(t, auth, {
    ...ids,
    key: `fixture-${++runKeys}-${Date.now()}`,
    design: { type: 'explicit', combinations },
  });
  const { rows } = await t.testDb.pool.query<{ id: string; levels: Record<string, string> }>(
    `SELECT v.id, v.levels FROM variants v JOIN run_variants rv ON rv.variant_id = v.id
     WHERE rv.run_id = $1`,
    [run.id],
  );
  const dims = Object.keys(levels);
  const byLevels = new Map(rows.map((r) => [dims.map((d) => r.levels[d]).join('|'), r.id]));
  const variant = (...keys: string[]) => {
    const id = byLevels.get(keys.join('|'));
    if (!id) throw new Error(`no variant ${keys.join('|')}`);
    return id;
  };
  return { ...ids, runId: run.id, variant, variantIds: rows.map((r) => r.id) };
}

export function postMetrics(t: TestApp, auth: string, rows: Record<string, unknown>[]) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/metrics',
    headers: { authorization: auth },
    payload: { rows },
  });
}

export function getReport(
  t: TestApp,
  auth: string,
  campaignId: string,
  query: Record<string, string> = {},
) {
  const qs = new URLSearchParams(query).toString();
  return t.app.inject({
    method: 'GET',
    url: `/v1/campaigns/${campaignId}/report${qs ? `?${qs}` : ''}`,
    headers: { authorization: auth },
  });
}
