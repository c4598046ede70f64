/**
 * Bounds how many image decodes run at once in this process. A logo decode is an ffmpeg
 * process whose memory grows with the pixel count (up to ~64 MB RGBA at the 4096-px limit);
 * four 16000×16000 bombs decoded at once once took 1 GB. A request waiting here holds only
 * its upload's temp file on disk and a callback, so the queue costs no memory to speak of.
 */
export function createDecodeSlots(size: number) {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('decode slots must be >= 1');
  let running = 0;
  const waiting: Array<() => void> = [];
  return {
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (running < size) running++;
      // The slot is handed over by the one releasing it, so running never drops between.
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await work();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else running--;
      }
    },
    stats: () => ({ running, waiting: waiting.length }),
  };
}
