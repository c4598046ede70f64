import type { FastifyRequest } from 'fastify';
import type { UploadPart } from '../assets/service.ts';
import type { FieldError } from '../http/problem.ts';
import { ProblemError } from '../http/problem.ts';
import { type ConsoleDeps, type Form, field, formOf, sessionOf, tenantOf } from './context.ts';
import { html, type SafeHtml } from './html.ts';
import { sameToken } from './session.ts';

/** The form's last field: after every other one, so they are all read before the image is. */
export function imageField(current: string | null): SafeHtml {
  return html`<fieldset><legend>First-frame image</legend>
<label for="f_image">First-frame image (models that render from an image)</label>
<input id="f_image" name="file" type="file" accept="image/png,image/jpeg,image/webp">
${current ? html`<p class="muted">This campaign has one (${current}); a new file replaces it.</p><label class="check"><input type="checkbox" name="remove_image"> Remove the first-frame image</label>` : ''}
</fieldset>`;
}

const forbidden = () =>
  new ProblemError({
    status: 403,
    slug: 'forbidden',
    title: 'Forbidden',
    detail: 'The form has expired; reload the page and try again.',
  });

/**
 * The campaign form, urlencoded or multipart (the browser's, with its optional first-frame
 * image). The image goes through the asset service like POST /v1/assets, but only once the
 * CSRF token is good and `judge` finds nothing wrong with the fields before it, so a form the
 * campaign rules refuse stores no asset.
 */
export async function readCampaignForm(
  request: FastifyRequest,
  deps: Pick<ConsoleDeps, 'assets' | 'uploadLimitBytes'>,
  judge: (form: Form) => Promise<FieldError[]>,
): Promise<{ form: Form; imageId: string | undefined; errors: FieldError[] }> {
  if (!request.isMultipart()) return { form: formOf(request), imageId: undefined, errors: [] };
  const form: Form = {};
  let imageId: string | undefined;
  let errors: FieldError[] = [];
  for await (const part of request.parts({ limits: { files: 1, fields: 40 } })) {
    if (part.type === 'field') {
      const prev = form[part.fieldname];
      const value = String(part.value);
      form[part.fieldname] =
        prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
      continue;
    }
    if (!sameToken(form._csrf, sessionOf(request).csrfToken)) {
      part.file.resume();
      throw forbidden();
    }
    // No file chosen: the browser still sends the part, empty and without a name.
    if (!part.filename) {
      part.file.resume();
      continue;
    }
    errors = await judge(form);
    if (errors.length) {
      part.file.resume();
      continue;
    }
    const { row } = await deps.assets.upload(tenantOf(request), {
      parts: (async function* () {
        yield part as unknown as UploadPart;
      })(),
      limitBytes: deps.uploadLimitBytes,
    });
    imageId = row.id;
  }
  if (!sameToken(field(form, '_csrf'), sessionOf(request).csrfToken)) throw forbidden();
  return { form, imageId, errors };
}
