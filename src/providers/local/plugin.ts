import { z } from 'zod';
import { definePlugin, range, textModel } from '../plugin.ts';

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
  catalog: () => ({
    defaultModel: 'card-v1',
    models: { 'card-v1': textModel(range(1, 20), Object.fromEntries(sizes.map((s) => [s, 0]))) },
  }),
  limits: (env) => ({ rpm: env.LOCAL_RPM, maxConcurrent: env.LOCAL_MAX_CONCURRENT }),
  // Bounded by the worker's own concurrency, not by anyone's quota.
  quota: false,
  async create(_env, ctx) {
    const { createLocalProvider } = await import('./adapter.ts');
    return createLocalProvider(ctx);
  },
});
