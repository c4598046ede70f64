/**
 * HTML from tagged templates that escape every interpolation by default. Only values already
 * built by `html` (SafeHtml) pass through unescaped, so a level label like `<script>` or `"x"`
 * always renders as text. No dependency: the whole contract is these few lines, and a typo in a
 * template is a type error, not a runtime surprise.
 */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString() {
    return this.value;
  }
}

type Part = SafeHtml | string | number | boolean | null | undefined | readonly Part[];

const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => entities[c] as string);
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i] as Part) + strings[i + 1];
  return new SafeHtml(out);
}

/** For markup built by trusted code only (e.g. a number formatted as SVG coordinates). */
export const trusted = (markup: string) => new SafeHtml(markup);

export const when = (cond: unknown, part: () => Part): Part => (cond ? part() : '');
