import { z } from 'zod';
import { definePlugin, range, textModel } from '../plugin.ts';

const HOUR = 3_600_000;

const sizes = [
  '320x180',
  '640x360',
  '1280x720',
  '1920x1080',
  '180x320',
  '360x640',
  '720x1280',
  '1080x1920',
  '1024x1792',
  '1792x1024',
  '1080x1080',
];

/** The built-in ffmpeg renderer: needs no account, so every deployment has it. */
export const localPlugin = definePlugin({
  name: 'local',
  env: {
    LOCAL_RPM: z.coerce.number().int().min(1).default(10_000),
    LOCAL_MAX_CONCURRENT: z.coerce.number().int().min(1).default(2),
  },
  key: null,
  // motion-v1, the default, is a simple real ad: the product image (the campaign's reference
  // image, optional) with a slow push-in, the key message and CTA animated in. card-v1 stays
  // as a plain title card of the level labels: cheaper, and what a pipeline check needs.
  catalog: () => {
    const card = textModel(range(1, 20), Object.fromEntries(sizes.map((s) => [s, 0])));
    const motion = {
      ...card,
      imageToVideo: true,
      sizes: { textToVideo: sizes, imageToVideo: sizes },
    };
    return { defaultModel: 'motion-v1', models: { 'motion-v1': motion, 'card-v1': card } };
  },
  limits: (env) => ({ rpm: env.LOCAL_RPM, maxConcurrent: env.LOCAL_MAX_CONCURRENT }),
  // Bounded by the worker's own concurrency, not by anyone's quota.
  quota: false,
  // ffmpeg drawing the brief: nothing sampled from a trained model.
  trainedModel: false,
  workDirAreas: [
    {
      dir: 'local',
      // `.<variant>.<uuid>.*` is a render in progress (a crash strands it); `<variant>.mp4|.jpg`
      // is the job's record until the download stores it. Not downloaded after a day, it is
      // treated like a provider's expired output: re-rendered for free if still wanted.
      maxAgeMs: (name) => (name.startsWith('.') ? HOUR : 24 * HOUR),
    },
  ],
  async create(_env, ctx) {
    const { createLocalProvider } = await import('./adapter.ts');
    return createLocalProvider(ctx);
  },
});
