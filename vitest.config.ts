import { defineConfig } from 'vitest/config';

/**
 * Files that start worker or api processes, kill them, or render enough video to keep both
 * cores busy for 15 s or more (each measured on CI's 2 cores). They run one at a time, after the
 * rest: next to each other they only slow each other down, and a render deadline that holds
 * for one file alone need not hold beside another one's five processes. The other files,
 * mostly waiting on Postgres, Redis and timers, run two at a time (vitest's default on 2 cores
 * is one, which left a core idle for most of the suite).
 */
const oneAtATime = [
  'test/ops/processes.test.ts',
  'test/ops/restarts.test.ts',
  'test/e2e/readme.test.ts',
  'test/main/demo.test.ts',
  'test/render/chaos.test.ts',
  'test/render/local-chaos.test.ts',
  'test/render/provider-chaos.test.ts',
  'test/render/openai-pipeline.test.ts',
  'test/spots/spots.test.ts',
  'test/spots/spot-chaos.test.ts',
  'test/spots/shot-inputs.test.ts',
  'test/spots/end-card-audio.test.ts',
  'test/media/end-card.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'two-at-a-time',
          include: ['test/**/*.test.ts'],
          exclude: oneAtATime,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'one-at-a-time',
          include: oneAtATime,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
