import type { Job } from 'bullmq';

/** Thrown out of a step after the job was moved to the delayed set: BullMQ then lets it go. */
export class Waiting extends Error {}

export async function delay(job: Job, token: string | undefined, ms: number): Promise<never> {
  await job.moveToDelayed(Date.now() + ms, token);
  throw new Waiting();
}
