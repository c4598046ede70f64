export { FAKE_MODELS } from './models.ts';
export { RUNWAY_VERSION, startFakeRunway } from './server.ts';
export type * from './types.ts';
