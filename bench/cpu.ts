import { readFileSync } from 'node:fs';

/**
 * Seconds of CPU used by reaped children so far (fields 16 and 17 of /proc/self/stat): Node
 * reaps its ffmpeg and ffprobe children, so their times land in cutime/cstime (USER_HZ ticks).
 */
export function childCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name, field 3 (state) is index 0: cutime is field 16, cstime 17.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Median wall and CPU seconds of `runs` calls; `cpu` says whose CPU counts. */
export async function measureMedian(
  fn: () => Promise<unknown>,
  runs: number,
  cpu: () => number = childCpuSeconds,
) {
  const cpus: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = cpu();
    const t0 = performance.now();
    await fn();
    wall.push((performance.now() - t0) / 1000);
    cpus.push(cpu() - c0);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { cpu: median(cpus), wall: median(wall) };
}
