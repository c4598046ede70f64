// A campaign, a 2 × 2 matrix, a run, and its videos, with the typed client:
//   ADMATRIX_URL=http://localhost:3000 ADMATRIX_API_KEY=amx_… node examples/quickstart.ts
import { AdmatrixProblem, createAdmatrixClient } from '../src/index.ts';

const admatrix = createAdmatrixClient({
  baseUrl: process.env.ADMATRIX_URL ?? 'http://localhost:3000',
  apiKey: process.env.ADMATRIX_API_KEY ?? '',
});
const { unwrap } = admatrix;

try {
  const campaign = await unwrap(
    admatrix.POST('/v1/campaigns', {
      body: {
        name: 'Summer launch',
        brief: { product: 'Fizz', key_message: 'Cold and bright' },
        prompt_template: 'A {{tone}} ad for {{brief.product}} in {{city}}',
        video: { provider: 'local', seconds: 4, size: '720x1280' },
      },
    }),
  );
  const matrix = await unwrap(
    admatrix.POST('/v1/campaigns/{id}/matrices', {
      params: { path: { id: campaign.id } },
      body: {
        dimensions: [
          { key: 'tone', levels: [{ key: 'playful' }, { key: 'calm' }] },
          {
            key: 'city',
            levels: [
              { key: 'paris', label: 'Paris' },
              { key: 'tokyo', label: '東京' },
            ],
          },
        ],
      },
    }),
  );
  // The key makes the run start once, however often this line is retried.
  const run = await unwrap(
    admatrix.POST('/v1/campaigns/{id}/runs', {
      params: {
        path: { id: campaign.id },
        header: { 'Idempotency-Key': `quickstart-${matrix.id}` },
      },
      body: { matrix_id: matrix.id, design: { type: 'full' } },
    }),
  );
  let status: string = run.status;
  while (status !== 'completed' && status !== 'cancelled') {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const progress = await unwrap(
      admatrix.GET('/v1/runs/{id}', { params: { path: { id: run.id } } }),
    );
    status = progress.status;
    console.log(`${status}: ${JSON.stringify(progress.counts)}`);
  }
  const variants = admatrix.pages((cursor) =>
    unwrap(admatrix.GET('/v1/variants', { params: { query: { run_id: run.id, cursor } } })),
  );
  for await (const variant of variants) console.log(variant.id, variant.levels, variant.video?.url);
} catch (err) {
  if (!(err instanceof AdmatrixProblem)) throw err;
  console.error(`${err.status} ${err.title}: ${err.detail ?? ''}`);
  for (const field of err.errors) console.error(`  ${field.path ?? ''}: ${field.message}`);
  process.exitCode = 1;
}
