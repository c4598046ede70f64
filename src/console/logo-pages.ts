import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { UploadPart } from '../assets/service.ts';
import { ProblemError, problems } from '../http/problem.ts';
import { type ConsoleDeps, idParam, seeOther, sessionOf, tenantOf } from './context.ts';
import { html, type SafeHtml } from './html.ts';
import type { PageContext } from './layout.ts';
import { sameToken } from './session.ts';

type MatrixRow = Awaited<ReturnType<ConsoleDeps['matrices']['get']>>;

/** A form per matrix: pick a level, upload its logo; the matrix is saved again with it. */
export function logoForm(ctx: PageContext, m: MatrixRow): SafeHtml {
  return html`<section class="card"><h2>Partner logos</h2>
<form method="post" action="/console/matrices/${m.id}/logos" enctype="multipart/form-data">
<input type="hidden" name="_csrf" value="${ctx.csrfToken}">
<label for="logo_level">Level</label>
<select id="logo_level" name="level">${m.document.dimensions.map(
    (d) =>
      html`<optgroup label="${d.label}">${d.levels.map(
        (l) =>
          html`<option value="${JSON.stringify([d.key, l.key])}">${d.label}: ${l.label}${l.asset_id ? ' (has a logo)' : ''}</option>`,
      )}</optgroup>`,
  )}</select>
<label for="logo_file">Logo file</label>
<input id="logo_file" name="file" type="file" accept="image/png,image/jpeg,image/webp" required>
<button type="submit">Upload logo</button>
<p class="muted">Logos sit in one dimension (the partner); the matrix is saved as a new version.</p>
</form></section>`;
}

/**
 * The fields before the file (_csrf, level), then the file handed to the asset service as the
 * only part it sees: the same checks and storage as POST /v1/assets.
 */
async function* fileParts(request: FastifyRequest, fields: Record<string, string>) {
  for await (const part of request.parts({ limits: { files: 1, fields: 3 } })) {
    if (part.type === 'field') {
      fields[part.fieldname] = String(part.value);
      continue;
    }
    if (!sameToken(fields._csrf, sessionOf(request).csrfToken)) {
      part.file.resume();
      throw new ProblemError({
        status: 403,
        slug: 'forbidden',
        title: 'Forbidden',
        detail: 'The form has expired; reload the page and try again.',
      });
    }
    yield part as unknown as UploadPart;
  }
}

export async function logoPages(
  app: FastifyInstance,
  deps: ConsoleDeps & { uploadLimitBytes: number },
) {
  app.post('/matrices/:id/logos', { config: { csrfInParts: true } }, async (request, reply) => {
    const tenantId = tenantOf(request);
    const fields: Record<string, string> = {};
    const { row: asset } = await deps.assets.upload(tenantId, {
      parts: fileParts(request, fields),
      limitBytes: deps.uploadLimitBytes,
    });
    const m = await deps.matrices.get(tenantId, idParam(request));
    let target: [string, string];
    try {
      target = JSON.parse(fields.level ?? '') as [string, string];
    } catch {
      throw problems.badRequest('Choose a level.', [{ path: 'level', message: 'required' }]);
    }
    const doc = structuredClone(m.document);
    const level = doc.dimensions
      .find((d) => d.key === target[0])
      ?.levels.find((l) => l.key === target[1]);
    if (!level)
      throw problems.unprocessable('Choose a level of this matrix.', [
        { path: 'level', message: 'unknown level' },
      ]);
    level.asset_id = asset.id;
    // A new version through the matrix service: the one-logo-dimension rule and the rest hold.
    const { row } = await deps.matrices.create(tenantId, m.campaignId, {
      kind: 'json',
      body: { ...doc, name: m.name ?? undefined },
    });
    return seeOther(reply, `/console/matrices/${row.id}`);
  });
}
