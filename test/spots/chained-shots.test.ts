import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeVideoServer } from '../fake-provider/index.ts';
import { campaignBody, type TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun, waitForRun } from '../helpers/scenario.ts';
import { type SpotStack, startSpotStack } from './stack.ts';

let t: TestApp;
let fake: FakeVideoServer;
let auth: string;
let stack: SpotStack;

beforeAll(async () => {
  stack = await startSpotStack('chained-co', 4);
  ({ t, fake, auth } = stack);
});
afterAll(() => stack.close());
beforeEach(() => fake.reset());

/** The closing shot starts where the city's street shot ends. */
const chained = {
  shots: [
    { key: 'street', prompt_template: 'Street in {{city}}', seconds: 4 },
    {
      key: 'close',
      prompt_template: 'The camera rises over {{brief.product}}',
      seconds: 4,
      first_frame: 'previous_last_frame',
    },
  ],
  transition: { type: 'cut', seconds: 0 },
};

describe('first_frame: previous_last_frame', () => {
  it("sends each chained shot once, after its predecessor, carrying that render's last frame", {
    timeout: 120_000,
  }, async () => {
    const s = await setupCampaign(t, auth, { levels: { city: ['oslo', 'rome'] }, spot: chained });
    const quote = (
      await t.app.inject({
        method: 'POST',
        url: `/v1/matrices/${s.matrixId}/preview`,
        headers: { authorization: auth },
        payload: { design: { type: 'full' } },
      })
    ).json();
    // One prompt for the close, but two predecessors: two renders, not one.
    expect(quote.shots).toMatchObject({ unique: 4 });
    const run = await startRun(t, auth, { ...s, key: 'chained-1' });
    const done = await waitForRun(t, auth, run.id, 'completed', 90_000);
    expect(done.counts.ready).toBe(2);
    expect(fake.createCalls).toHaveLength(4);

    const { rows: shots } = await t.testDb.pool.query(
      `SELECT s.id, s.shot_key, s.identity, s.previous_identity, s.first_frame_key, s.prompt, s.attempts,
              s.submit_started_at, p.ready_at AS previous_ready_at
       FROM shots s LEFT JOIN shots p ON p.campaign_id = s.campaign_id AND p.identity = s.previous_identity
       WHERE s.campaign_id = $1 ORDER BY s.id`,
      [s.campaignId],
    );
    const closes = shots.filter((r) => r.shot_key === 'close');
    expect(closes).toHaveLength(2);
    const streets = new Set(shots.filter((r) => r.shot_key === 'street').map((r) => r.identity));
    expect(new Set(closes.map((r) => r.previous_identity))).toEqual(streets);
    for (const close of closes) {
      expect(close.attempts).toBe(1);
      // Sent only once the shot before was ready.
      expect(new Date(close.submit_started_at).getTime()).toBeGreaterThanOrEqual(
        new Date(close.previous_ready_at).getTime(),
      );
    }
    const sentFrames = fake.createCalls
      .filter((c) => c.prompt === closes[0]!.prompt)
      .map((c) => c.inputReference);
    expect(sentFrames).toHaveLength(2);
    // The stored frame (content-addressed by its sha256) is what each create carried, as PNG.
    expect(sentFrames.map((r) => (r?.kind === 'file' ? r.image.sha256 : null)).sort()).toEqual(
      closes.map((r) => (r.first_frame_key as string).split('/').at(-1)).sort(),
    );
    for (const ref of sentFrames)
      expect(ref).toMatchObject({
        kind: 'file',
        image: { type: 'image/png', width: 720, height: 1280 },
      });
    // The streets went out from their prompts alone.
    expect(fake.createCalls.filter((c) => c.inputReference).map((c) => c.prompt)).toEqual([
      closes[0]!.prompt,
      closes[0]!.prompt,
    ]);
  });

  it('refuses it on the first shot and on a model that takes no image, naming the field', async () => {
    const post = (shots: unknown[]) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/campaigns',
        headers: { authorization: auth },
        payload: {
          ...campaignBody,
          video: { ...campaignBody.video, provider: 'openai' },
          spot: { shots },
        },
      });
    const first = await post([{ ...chained.shots[1], key: 'a' }]);
    expect(first.statusCode).toBe(422);
    expect(first.json().errors.map((e: { path: string }) => e.path)).toEqual([
      'spot.shots[0].first_frame',
    ]);
    const card = await post([
      chained.shots[0],
      { ...chained.shots[1], seconds: 5, video: { provider: 'local', model: 'card-v1' } },
    ]);
    expect(card.statusCode).toBe(422);
    expect(card.json().errors.map((e: { path: string }) => e.path)).toContain(
      'spot.shots[1].first_frame',
    );
  });
});
