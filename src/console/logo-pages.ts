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
 * only part it sees: the same checks and storage as POST /v1/assets. `beforeFile` judges the
 * fields first, so a bad token or level stores nothing.
 */
async function* fileParts(
  request: FastifyRequest,
  beforeFile: (fields: Record<string, string>) => void,
) {
  const fields: Record<string, string> = {};
  for await (const part of request.parts({ limits: { files: 1, fields: 3 } })) {
    if (part.type === 'field') {
      fields[part.fieldname] = String(part.value);
      continue;
    }
    try {
      if (!sameToken(fields._csrf, sessionOf(request).csrfToken))
        throw new ProblemError({
          status: 403,
          slug: 'forbidden',
          title: 'Forbidden',
          detail: 'The form has expired; reload the page and try again.',
        });
      beforeFile(fields);
    } catch (err) {
      part.file.resume();
      throw err;
    }
    yield part as unknown as UploadPart;
  }
}

/** The level a logo form names, as [dimension, level] of this matrix's document. */
function chosenLevel(doc: MatrixRow['document'], value: string | undefined) {
  let target: unknown;
  try {
    target = JSON.parse(value ?? '');
  } catch {
    throw problems.badRequest('Choose a level.', [{ path: 'level', message: 'required' }]);
  }
  const [dim, key] = Array.isArray(target) ? target : [];
  const level = doc.dimensions.find((d) => d.key === dim)?.levels.find((l) => l.key === key);
  if (!level)
    throw problems.unprocessable('Choose a level of this matrix.', [
      { path: 'level', message: 'unknown level' },
    ]);
  return level;
}

export async function logoPages(
  app: FastifyInstance,
  deps: ConsoleDeps & { uploadLimitBytes: number },
) {
  app.post('/matrices/:id/logos', { config: { csrfInParts: true } }, async (request, reply) => {
    const tenantId = tenantOf(request);
    // The matrix first: another tenant's (or no) matrix is a 404 before any asset is stored.
    const m = await deps.matrices.get(tenantId, idParam(request));
    const doc = structuredClone(m.document);
    let level: ReturnType<typeof chosenLevel> | undefined;
    const { row: asset } = await deps.assets.upload(tenantId, {
      parts: fileParts(request, (fields) => {
        level = chosenLevel(doc, fields.level);
      }),
      limitBytes: deps.uploadLimitBytes,
    });
    if (!level)
      throw problems.badRequest('Choose a level.', [{ path: 'level', message: 'required' }]);
    level.asset_id = asset.id;
    // A new version through the matrix service: the one-logo-dimension rule and the rest hold.
    const { row } = await deps.matrices.create(tenantId, m.campaignId, {
      kind: 'json',
      body: { ...doc, name: m.name ?? undefined },
    });
    return seeOther(reply, `/console/matrices/${row.id}`);
  });
}
