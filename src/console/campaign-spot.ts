import type { SpotSettings, VideoSettings } from '../db/schema.ts';
import type { FieldError } from '../http/problem.ts';
import { type Form, field } from './context.ts';
import { html, type SafeHtml } from './html.ts';

/** Ten shots with long templates fit well inside; anything larger is refused before parsing. */
const maxSpotChars = 50_000;

/**
 * The spot textarea as the body's `spot`: left out when the form has no such field (kept on
 * edit), null when emptied on edit (removed), else the parsed JSON for zod and the spot
 * service to judge as they judge the API's.
 */
export function spotOfForm(form: Form, editing: boolean): { spot: unknown; errors: FieldError[] } {
  if (form.spot === undefined) return { spot: undefined, errors: [] };
  const text = field(form, 'spot');
  if (!text) return { spot: editing ? null : undefined, errors: [] };
  if (text.length > maxSpotChars)
    return {
      spot: undefined,
      errors: [{ path: 'spot', message: `must be at most ${maxSpotChars} characters of JSON` }],
    };
  try {
    return { spot: JSON.parse(text), errors: [] };
  } catch (err) {
    return {
      spot: undefined,
      errors: [{ path: 'spot', message: `not valid JSON: ${(err as Error).message}` }],
    };
  }
}

/**
 * A stored spot as the textarea's JSON. A shot's generator is written out only when it differs
 * from the campaign's, so changing the campaign's model on the same form moves those shots too.
 */
export function spotJsonOf(spot: SpotSettings | null, video: VideoSettings): string {
  if (!spot) return '';
  const shots = spot.shots.map((s) => ({
    key: s.key,
    prompt_template: s.prompt_template,
    seconds: s.seconds,
    ...(s.video.provider === video.provider && s.video.model === video.model
      ? {}
      : { video: s.video }),
    ...(s.first_frame ? { first_frame: s.first_frame } : {}),
  }));
  const formats = spot.formats?.length ? { formats: spot.formats } : {};
  return JSON.stringify({ shots, transition: spot.transition, ...formats }, null, 2);
}

export function spotField(value: string): SafeHtml {
  return html`<fieldset><legend>Multi-shot spot (optional)</legend>
<label for="f_spot">Spot as JSON; empty for a single clip</label>
<textarea id="f_spot" name="spot" rows="8" maxlength="${String(maxSpotChars)}" spellcheck="false" placeholder='{"shots": [{"key": "open", "prompt_template": "{{brief.product}} on a {{setting}}", "seconds": 4}], "transition": {"type": "cut", "seconds": 0}}'>${value}</textarea>
<p class="muted">Each shot: key, prompt_template, seconds, optional video {provider, model}, optional first_frame ({"asset_id": …} or "previous_last_frame", not on the first shot). Transition: cut (0 s) or fade (seconds shorter than every shot). Optional formats: any of "9:16", "1:1", "16:9", one more file of each variant per format.</p>
</fieldset>`;
}

/** The campaign page's list of shots, or nothing for a single-clip campaign. */
export function spotSection(spot: SpotSettings | null): SafeHtml | string {
  if (!spot) return '';
  return html`<section class="card"><h2>Multi-shot spot</h2>
<p>${spot.shots.length} shots · ${spot.transition.type}${spot.transition.type === 'fade' ? ` ${spot.transition.seconds} s` : ''}${spot.formats?.length ? ` · formats ${spot.formats.join(', ')}` : ''}</p>
<table><thead><tr><th scope="col">Key</th><th scope="col">Seconds</th><th scope="col">Video</th><th scope="col">Prompt template</th></tr></thead>
<tbody>${spot.shots.map(
    (s) =>
      html`<tr><td>${s.key}</td><td>${s.seconds}</td><td>${s.video.provider} · ${s.video.model}${s.first_frame === 'previous_last_frame' ? ' · from the previous shot' : ''}</td><td>${s.prompt_template}</td></tr>`,
  )}</tbody></table></section>`;
}
