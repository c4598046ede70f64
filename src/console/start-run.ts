import { createHash } from 'node:crypto';
import * as idem from '../http/idempotency/repository.ts';
import { problems } from '../http/problem.ts';
import type { DesignInput } from '../matrices/schemas.ts';
import type { ConsoleDeps } from './context.ts';

const keyPattern = /^console-[0-9a-f-]{36}$/;

/**
 * "Start run" under the form's idempotency key, through the same key table and run service as
 * POST /v1/campaigns/{id}/runs: the run and the key's record commit in one transaction, so a
 * double click (or a resubmitted form) finds the first run instead of starting a second.
 */
export async function startRunOnce(
  deps: Pick<ConsoleDeps, 'db' | 'box' | 'runs'>,
  p: { tenantId: string; campaignId: string; matrixId: string; design: DesignInput; key: string },
): Promise<string> {
  if (!keyPattern.test(p.key))
    throw problems.badRequest('The form has no valid idempotency key; reload the page.', [
      { path: 'idempotency_key', message: 'invalid' },
    ]);
  const body = { matrix_id: p.matrixId, design: p.design };
  const requestHash = createHash('sha256')
    .update(`console start-run ${p.campaignId}\n${JSON.stringify(body)}`)
    .digest('hex');
  const claim = {
    tenantId: p.tenantId,
    key: p.key,
    method: 'POST',
    path: `/console/campaigns/${p.campaignId}/runs`,
    requestHash,
    lockMs: 60_000,
    ttlMs: 24 * 3_600_000,
  };
  if (!(await idem.claimKey(deps.db, claim)))
    return waitForFirst(deps, p.tenantId, p.key, requestHash);
  let completed = false;
  try {
    const accepted = await deps.runs.create(p.tenantId, p.campaignId, body, {
      key: p.key,
      async completeIn(tx, status, response) {
        await idem.completeKey(tx, {
          tenantId: p.tenantId,
          key: p.key,
          status,
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: deps.box.seal(JSON.stringify(response)),
        });
        completed = true;
      },
    });
    return accepted.id;
  } finally {
    if (!completed) await idem.releaseKey(deps.db, { tenantId: p.tenantId, key: p.key });
  }
}

/** The second click: the first request's run, once it has committed (a few seconds at most). */
async function waitForFirst(
  deps: Pick<ConsoleDeps, 'db' | 'box'>,
  tenantId: string,
  key: string,
  requestHash: string,
): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const row = await idem.findKey(deps.db, { tenantId, key });
    if (!row)
      throw problems.conflict('The first start of this run failed; reload the page to try again.');
    if (row.requestHash !== requestHash)
      throw problems.unprocessable('This form was already used for another run.', [
        { path: 'idempotency_key', message: 'reused with a different request' },
      ]);
    if (row.state === 'completed' && row.responseBody) {
      const stored = row.responseBody.startsWith('v1.')
        ? deps.box.open(row.responseBody)
        : row.responseBody;
      return (JSON.parse(stored) as { id: string }).id;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw problems.conflict('The run is still starting; open the campaign to find it.');
}
