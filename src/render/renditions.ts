import { join } from 'node:path';
import type { Db } from '../db/client.ts';
import type { RenditionFormat } from '../db/schema.ts';
import type { ProbeResult, Storage } from '../media/index.ts';
import { insertRendition, renditionsOfVariants } from '../variants/repository.ts';

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/**
 * A format's frame from the campaign's size: its shorter side is kept and the other follows
 * the ratio (720x1280 gives 1:1 720x720 and 16:9 1280x720), so no rendition is upscaled past
 * what the campaign rendered.
 */
function formatSize(size: string, format: RenditionFormat): { width: number; height: number } {
  const [w, h] = size.split('x').map(Number) as [number, number];
  const short = Math.min(w, h);
  const long = even((short * 16) / 9);
  if (format === '1:1') return { width: short, height: short };
  return format === '9:16' ? { width: short, height: long } : { width: long, height: short };
}

/**
 * One file per requested format, each stored (content-addressed) and recorded before the
 * variant is ready. A format already recorded is skipped, so a composite re-run after a crash
 * renders only what is missing (and the same bytes: the encode is deterministic). A format
 * whose frame is the main video's own is that file.
 */
export async function renderRenditions(
  deps: { db: Db; storage: Storage },
  p: {
    variant: { id: string; tenant_id: string; size: string };
    formats: readonly RenditionFormat[];
    dir: string;
    main: { key: string; bytes: number; sha256: string; facts: ProbeResult };
    render: (size: { width: number; height: number }, out: string) => Promise<ProbeResult>;
  },
): Promise<void> {
  if (!p.formats.length) return;
  const done = new Set(
    ((await renditionsOfVariants(deps.db, [p.variant.id])).get(p.variant.id) ?? []).map(
      (r) => r.format,
    ),
  );
  for (const format of p.formats) {
    if (done.has(format)) continue;
    const size = formatSize(p.variant.size, format);
    let file: { key: string; bytes: number; sha256: string; facts: ProbeResult };
    if (size.width === p.main.facts.width && size.height === p.main.facts.height) file = p.main;
    else {
      const out = join(p.dir, `rendition-${format.replace(':', 'x')}.mp4`);
      const facts = await p.render(size, out);
      const stored = await deps.storage.putFile(out, { contentType: 'video/mp4' });
      file = { ...stored, facts };
    }
    await insertRendition(deps.db, {
      variantId: p.variant.id,
      tenantId: p.variant.tenant_id,
      format,
      videoKey: file.key,
      width: file.facts.width,
      height: file.facts.height,
      durationS: file.facts.duration_s,
      bytes: file.bytes,
      sha256: file.sha256,
    });
  }
}
