import type { FastifyInstance } from 'fastify';
import type { CampaignRow } from '../campaigns/repository.ts';
import { createCampaignBody, updateCampaignBody } from '../campaigns/schemas.ts';
import type { FieldError } from '../http/problem.ts';
import { ProblemError } from '../http/problem.ts';
import { imageField, readCampaignForm } from './campaign-image.ts';
import { spotField, spotJsonOf, spotOfForm, spotSection } from './campaign-spot.ts';
import {
  type ConsoleDeps,
  type Form,
  field,
  idParam,
  pageContext,
  seeOther,
  sendHtml,
  tenantOf,
  usd,
} from './context.ts';
import { html, type SafeHtml } from './html.ts';
import { can, csrfField, errorList, type PageContext, page } from './layout.ts';

const positions = ['bottom-right', 'bottom-left', 'top-right', 'top-left'] as const;

/**
 * The form's flat fields as the API's body; zod (the /v1 schema) then judges it. Editing, an
 * emptied optional brief field is sent empty (the merge patch would keep an absent one), which
 * the prompts treat as left out.
 */
function campaignBodyOf(form: Form, editing = false) {
  const opt = (name: string) => field(form, name) || (editing ? '' : undefined);
  const avoid = field(form, 'avoid')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const [provider, model] = field(form, 'video_model').split(':');
  const budget = field(form, 'budget_usd');
  return {
    name: field(form, 'name'),
    brief: {
      product: field(form, 'product'),
      key_message: field(form, 'key_message'),
      audience: opt('audience'),
      call_to_action: opt('call_to_action'),
      style: opt('style'),
      brand_guidelines: opt('brand_guidelines'),
      avoid: avoid.length || editing ? avoid : undefined,
    },
    prompt_template: field(form, 'prompt_template'),
    video: {
      provider: provider || undefined,
      model: model || undefined,
      seconds: Number(field(form, 'seconds')),
      size: field(form, 'size'),
    },
    budget_usd: budget ? Number(budget) : undefined,
    require_approval: field(form, 'require_approval') === 'on',
    overlay: {
      logo_position: field(form, 'logo_position') || 'bottom-right',
      text_template: field(form, 'text_template') || undefined,
    },
    spot: spotOfForm(form, editing).spot,
  };
}

type ProviderList = Awaited<ReturnType<ConsoleDeps['providers']['list']>>;

/** A campaign as the form's fields, so editing starts from what is there. */
function formOfCampaign(c: CampaignRow): Form {
  return {
    name: c.name,
    product: c.brief.product,
    key_message: c.brief.key_message,
    audience: c.brief.audience ?? '',
    call_to_action: c.brief.call_to_action ?? '',
    style: c.brief.style ?? '',
    brand_guidelines: c.brief.brand_guidelines ?? '',
    avoid: (c.brief.avoid ?? []).join('\n'),
    prompt_template: c.promptTemplate,
    video_model: `${c.video.provider}:${c.video.model}`,
    seconds: String(c.video.seconds),
    size: c.video.size,
    logo_position: c.overlay.logo_position,
    text_template: c.overlay.text_template ?? '',
    budget_usd: c.budgetUsd === null ? '' : String(c.budgetUsd),
    require_approval: c.requireApproval ? 'on' : '',
    spot: spotJsonOf(c.spot, c.video),
  };
}

function campaignForm(
  ctx: PageContext,
  providers: ProviderList,
  form: Form,
  errors: FieldError[],
  target: { action: string; submit: string; image: string | null } = {
    action: '/console/campaigns',
    submit: 'Create campaign',
    image: null,
  },
): SafeHtml {
  const v = (name: string, fallback = '') => field(form, name) || fallback;
  const input = (name: string, label: string, attrs: SafeHtml = html``, fallback = '') =>
    html`<label for="f_${name}">${label}</label><input id="f_${name}" name="${name}" value="${v(name, fallback)}"${attrs}>`;
  const chosen = v('video_model');
  const sizes = new Set<string>();
  for (const p of providers.data)
    for (const m of p.models) for (const s of m.sizes.text_to_video) sizes.add(s);
  return html`<form method="post" action="${target.action}" enctype="multipart/form-data" class="card grid-form">${csrfField(ctx)}
${errors.length ? errorList(errors) : ''}
<fieldset><legend>Brief</legend>
${input('name', 'Campaign name', html` required maxlength="200"`)}
${input('product', 'Product', html` required maxlength="200"`)}
${input('key_message', 'Key message', html` required maxlength="500"`)}
${input('audience', 'Audience')}
${input('call_to_action', 'Call to action')}
${input('style', 'Style')}
<label for="f_brand_guidelines">Brand guidelines</label>
<textarea id="f_brand_guidelines" name="brand_guidelines" rows="3" maxlength="2000">${v('brand_guidelines')}</textarea>
<label for="f_avoid">Avoid (one thing per line)</label>
<textarea id="f_avoid" name="avoid" rows="3">${v('avoid')}</textarea>
<label for="f_prompt_template">Prompt template</label>
<textarea id="f_prompt_template" name="prompt_template" required rows="3">${v('prompt_template', 'A {{tone}} ad for {{brief.product}}: {{brief.key_message}}')}</textarea>
</fieldset>
<fieldset><legend>Video</legend>
<label for="f_video_model">Provider and model</label>
<select id="f_video_model" name="video_model">${providers.data.map(
    (p) =>
      html`<optgroup label="${p.name}">${p.models.map((m) => {
        const value = `${p.name}:${m.id}`;
        return html`<option value="${value}"${chosen === value ? html` selected` : ''}>${p.name} · ${m.id} (${m.seconds.join('/')} s)</option>`;
      })}</optgroup>`,
  )}</select>
${input('seconds', 'Seconds', html` type="number" min="1" max="60" required`, '4')}
${input('size', 'Size (WIDTHxHEIGHT)', html` list="sizes" required`, '720x1280')}
<datalist id="sizes">${[...sizes].map((s) => html`<option value="${s}">`)}</datalist>
</fieldset>
<fieldset><legend>Overlay and budget</legend>
<label for="f_logo_position">Logo position</label>
<select id="f_logo_position" name="logo_position">${positions.map(
    (p) => html`<option${v('logo_position') === p ? html` selected` : ''}>${p}</option>`,
  )}</select>
${input('text_template', 'Overlay text')}
${input('budget_usd', 'Budget (USD)', html` type="number" min="0.01" step="0.01"`)}
<label class="check"><input type="checkbox" name="require_approval"${v('require_approval') === 'on' ? html` checked` : ''}> Require approval before delivery</label>
</fieldset>
${spotField(v('spot'))}
${imageField(target.image)}
<button type="submit">${target.submit}</button>
</form>`;
}

/** A zod path as the spot service names fields: spot.shots[0].seconds. */
const pathName = (path: PropertyKey[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');

/**
 * zod's verdict, with the errors found before it (the spot's JSON), as the data or the field
 * errors the form lists.
 */
function judged<T>(
  r:
    | { success: true; data: T }
    | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } },
  before: FieldError[],
): { data: T; errors: FieldError[] } | { data: undefined; errors: FieldError[] } {
  if (r.success && !before.length) return { data: r.data, errors: [] };
  const issues = r.success ? [] : r.error.issues;
  return {
    data: undefined,
    errors: [...before, ...issues.map((i) => ({ path: pathName(i.path), message: i.message }))],
  };
}

function withImageId<T extends { video: object }>(body: T, imageId: string | null | undefined): T {
  return imageId === undefined
    ? body
    : { ...body, video: { ...body.video, reference_asset_id: imageId } };
}

/** Before an image is stored: the fields are valid and the chosen model takes an image. */
function imageProblems(providers: ProviderList, form: Form, parsed: { errors: FieldError[] }) {
  if (parsed.errors.length) return parsed.errors;
  const [provider, model] = field(form, 'video_model').split(':');
  const spec = providers.data.find((p) => p.name === provider)?.models.find((m) => m.id === model);
  return spec && !spec.image_to_video
    ? [
        {
          path: 'video.reference_asset_id',
          message: `${provider}/${model} does not take a first-frame image`,
        },
      ]
    : [];
}

export async function campaignPages(app: FastifyInstance, deps: ConsoleDeps) {
  // The browser's form is multipart (the optional image); readCampaignForm checks its token.
  const withImage = {
    bodyLimit: deps.uploadLimitBytes + 256 * 1024,
    config: { csrfInParts: true },
  } as const;
  app.get('/', async (request, reply) => {
    const ctx = pageContext(request);
    const query = request.query as { after?: string };
    const rows = await deps.campaigns.list(tenantOf(request), {
      ...(query.after ? { after: String(query.after) } : {}),
      limit: 51,
    });
    const pageRows = rows.slice(0, 50);
    const next = rows.length > 50 ? pageRows.at(-1)?.id : undefined;
    return sendHtml(
      reply,
      page(
        ctx,
        'Campaigns',
        html`${can(ctx, 'campaigns:write') ? html`<p><a class="button" href="/console/campaigns/new">New campaign</a></p>` : ''}
${
  pageRows.length
    ? html`<table><thead><tr><th scope="col">Name</th><th scope="col">Product</th><th scope="col">Video</th><th scope="col">Budget</th></tr></thead>
<tbody>${pageRows.map(
        (c) =>
          html`<tr><td><a href="/console/campaigns/${c.id}">${c.name}</a></td><td>${c.brief.product}</td><td>${c.video.provider} · ${c.video.model}</td><td>${usd(c.budgetUsd)}</td></tr>`,
      )}</tbody></table>`
    : html`<p>No campaigns yet.</p>`
}
${next ? html`<p><a href="/console?after=${next}">Next page</a></p>` : ''}`,
      ),
    );
  });

  // Forms only a key that may write can submit: a read-only key gets the 403 here, not later.
  const writeForm = { config: { consoleScope: 'campaigns:write' } } as const;
  app.get('/campaigns/new', writeForm, async (request, reply) => {
    const providers = await deps.providers.list();
    return sendHtml(
      reply,
      page(
        pageContext(request),
        'New campaign',
        campaignForm(pageContext(request), providers, {}, []),
      ),
    );
  });

  app.post('/campaigns', withImage, async (request, reply) => {
    const ctx = pageContext(request);
    const providers = await deps.providers.list();
    const parse = (form: Form, imageId?: string) =>
      judged(
        createCampaignBody.safeParse(withImageId(campaignBodyOf(form), imageId)),
        spotOfForm(form, false).errors,
      );
    const { form, imageId, errors } = await readCampaignForm(request, deps, async (f) =>
      imageProblems(providers, f, parse(f)),
    );
    const fail = (errors: FieldError[]) =>
      sendHtml(reply, page(ctx, 'New campaign', campaignForm(ctx, providers, form, errors)), 422);
    if (errors.length) return fail(errors);
    const parsed = parse(form, imageId);
    if (!parsed.data) return fail(parsed.errors);
    try {
      const row = await deps.campaigns.create(tenantOf(request), parsed.data);
      return seeOther(reply, `/console/campaigns/${row.id}`);
    } catch (err) {
      if (err instanceof ProblemError && err.status === 422) return fail(err.errors ?? []);
      throw err;
    }
  });

  app.get('/campaigns/:id/edit', writeForm, async (request, reply) => {
    const ctx = pageContext(request);
    const c = await deps.campaigns.get(tenantOf(request), idParam(request));
    const target = {
      action: `/console/campaigns/${c.id}`,
      submit: 'Save campaign',
      image: c.video.reference_asset_id ?? null,
    };
    const form = campaignForm(ctx, await deps.providers.list(), formOfCampaign(c), [], target);
    return sendHtml(
      reply,
      page(ctx, `Edit ${c.name}`, form, [{ href: `/console/campaigns/${c.id}`, label: c.name }]),
    );
  });

  app.post('/campaigns/:id', withImage, async (request, reply) => {
    const ctx = pageContext(request);
    const tenantId = tenantOf(request);
    const current = await deps.campaigns.get(tenantId, idParam(request));
    const providers = await deps.providers.list();
    const parse = (form: Form, imageId?: string) => {
      const { require_approval, ...body } = campaignBodyOf(form, true);
      const image =
        imageId ?? (field(form, 'remove_image') === 'on' ? null : current.video.reference_asset_id);
      // An emptied budget field removes the budget; a merge patch says so with null.
      return judged(
        updateCampaignBody.safeParse({
          ...withImageId(body, image ?? null),
          require_approval,
          budget_usd: body.budget_usd ?? null,
        }),
        spotOfForm(form, true).errors,
      );
    };
    const { form, imageId, errors } = await readCampaignForm(request, deps, async (f) =>
      imageProblems(providers, f, parse(f)),
    );
    const target = {
      action: `/console/campaigns/${current.id}`,
      submit: 'Save campaign',
      image: current.video.reference_asset_id ?? null,
    };
    const fail = (errors: FieldError[]) =>
      sendHtml(
        reply,
        page(ctx, 'Edit campaign', campaignForm(ctx, providers, form, errors, target)),
        422,
      );
    if (errors.length) return fail(errors);
    const parsed = parse(form, imageId);
    if (!parsed.data) return fail(parsed.errors);
    try {
      await deps.campaigns.update(tenantId, current.id, parsed.data);
      return seeOther(reply, `/console/campaigns/${current.id}`);
    } catch (err) {
      if (err instanceof ProblemError && err.status === 422) return fail(err.errors ?? []);
      throw err;
    }
  });

  app.get('/campaigns/:id', async (request, reply) => {
    const tenantId = tenantOf(request);
    const ctx = pageContext(request);
    const c = await deps.campaigns.get(tenantId, idParam(request));
    const [matrices, runs] = await Promise.all([
      deps.matrices.list(tenantId, c.id, { limit: 20 }),
      deps.runs.list(tenantId, c.id, { limit: 20 }).then(deps.runs.describeMany),
    ]);
    return sendHtml(
      reply,
      page(
        ctx,
        c.name,
        html`<section class="card"><h2>Brief</h2><dl>
<dt>Product</dt><dd>${c.brief.product}</dd><dt>Key message</dt><dd>${c.brief.key_message}</dd>
<dt>Video</dt><dd>${c.video.provider} · ${c.video.model} · ${c.video.seconds} s · ${c.video.size}${c.video.reference_asset_id ? ' · from a first-frame image' : ''}</dd>
<dt>Budget</dt><dd>${usd(c.budgetUsd)}</dd></dl>
<p class="actions">${can(ctx, 'reports:read') ? html`<a href="/console/campaigns/${c.id}/report">What won (report)</a> ` : ''}<a href="/console/campaigns/${c.id}/deliveries">Deliveries</a>${can(ctx, 'campaigns:write') ? html` <a href="/console/campaigns/${c.id}/edit">Edit campaign</a>` : ''}</p></section>
${spotSection(c.spot)}
${can(ctx, 'campaigns:write') ? uploadForm(ctx, c.id, []) : ''}
<section class="card"><h2>Matrices</h2>${
          matrices.length
            ? html`<ul>${matrices.map((m) => html`<li><a href="/console/matrices/${m.id}">${m.name ?? m.id}</a> · ${m.allowedCount} combinations</li>`)}</ul>`
            : html`<p>None yet.</p>`
        }</section>
<section class="card"><h2>Runs</h2>${
          runs.length
            ? html`<ul>${runs.map((r) => html`<li><a href="/console/runs/${r.id}">${r.id}</a> · ${r.status} · ${r.variant_count} variants</li>`)}</ul>`
            : html`<p>None yet.</p>`
        }</section>`,
        [{ href: `/console/campaigns/${c.id}`, label: c.name }],
      ),
    );
  });
}

export function uploadForm(ctx: PageContext, campaignId: string, errors: FieldError[]): SafeHtml {
  return html`<section class="card"><h2>Upload a matrix</h2>
<form method="post" action="/console/campaigns/${campaignId}/matrices" enctype="multipart/form-data">
<input type="hidden" name="_csrf" value="${ctx.csrfToken}">
${errors.length ? errorList(errors) : ''}
<label for="matrix_file">Matrix file</label>
<input id="matrix_file" name="file" type="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" required>
<button type="submit">Upload</button>
<p class="muted">CSV or XLSX: a column per dimension, or dimension,level,label,prompt rows.</p>
</form></section>`;
}
