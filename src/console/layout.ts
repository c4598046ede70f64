import type { Scope } from '../tenants/scopes.ts';
import { html, type SafeHtml } from './html.ts';

/** htmx without eval, inline scripts or injected styles: what the Content-Security-Policy allows. */
const htmxConfig = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  historyCacheSize: 0,
  // A 422 fragment says what is wrong in place (the quote); other errors are not swapped in.
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '422', swap: true, error: false },
    { code: '[45]..', swap: false, error: true },
  ],
});

export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "media-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export interface PageContext {
  csrfToken: string;
  keyPrefix: string;
  /** The signed-in key's scopes: a page offers only what the key may do. */
  scopes: ReadonlySet<string>;
}

/**
 * Whether the page may offer a control that needs this scope. The server refuses the request all
 * the same (routes.ts); this only keeps buttons that would answer 403 off the page.
 */
export const can = (ctx: PageContext, scope: Scope) => ctx.scopes.has(scope);

export function csrfField(ctx: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrfToken}">`;
}

function shell(title: string, body: SafeHtml, bodyAttrs: SafeHtml = html``): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="${htmxConfig}">
<title>${title} · admatrix console</title>
<link rel="stylesheet" href="/console/static/console.css">
<script src="/console/static/htmx.min.js" defer></script>
<script src="/console/static/console.js" defer></script>
</head>
<body${bodyAttrs}>
${body}
</body>
</html>`;
}

/** Every signed-in page: a header with navigation and the "Sign out" button. */
export function page(
  ctx: PageContext,
  title: string,
  content: SafeHtml,
  crumbs: { href: string; label: string }[] = [],
): SafeHtml {
  const headers = JSON.stringify({ 'x-csrf-token': ctx.csrfToken });
  const nav = html`<header class="top">
<nav aria-label="Breadcrumbs"><a href="/console">Campaigns</a>${can(ctx, 'webhooks:manage') ? html` · <a href="/console/webhooks">Webhooks</a>` : ''}${crumbs.map(
    (c) => html` <span aria-hidden="true">›</span> <a href="${c.href}">${c.label}</a>`,
  )}</nav>
<form method="post" action="/console/sign-out" class="signout">${csrfField(ctx)}
<span class="muted">key ${ctx.keyPrefix}…</span> <button type="submit">Sign out</button></form>
</header>
<main id="main">
<h1>${title}</h1>
${content}
</main>`;
  return shell(title, nav, html` hx-headers="${headers}"`);
}

/**
 * The API key field is a plain text input, masked by CSS, not type=password. Browsers decide to
 * offer saving (and later filling) a credential by the presence of a type=password field, and
 * Chrome, Edge and Safari ignore autocomplete="off" on those (the HTML standard lets them); on a
 * text field autocomplete="off" is honoured and also keeps the key out of form history. So: no
 * password field at all, autocomplete="off", and the opt-out attributes the common extension
 * managers read (1Password data-1p-ignore, LastPass data-lpignore, Bitwarden data-bwignore,
 * Dashlane data-form-type="other"). -webkit-text-security (console.css, honoured by Chromium,
 * WebKit and Firefox ≥ 124) masks it against shoulder-surfing
 * where the engine has it (Chromium, WebKit; elsewhere the key shows as typed, as a pasted key); spellcheck, autocapitalize and
 * autocorrect off keep the key out of spelling services and intact when typed on a phone.
 */
const apiKeyInput = html`<input id="api_key" name="api_key" type="text" class="secret" autocomplete="off" spellcheck="false" autocapitalize="off" autocorrect="off" data-1p-ignore data-lpignore="true" data-bwignore data-form-type="other" required>`;

export function signInPage(opts: { error?: string | undefined } = {}): SafeHtml {
  return shell(
    'Sign in',
    html`<main id="main" class="narrow">
<h1>admatrix console</h1>
<form method="post" action="/console/sign-in" class="card">
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<label for="api_key">API key</label>
${apiKeyInput}
<button type="submit">Sign in</button>
<p class="muted">The key is exchanged for a session; it is not kept in the browser.</p>
</form>
</main>`,
  );
}

export function errorPage(
  ctx: PageContext | null,
  status: number,
  title: string,
  detail: string | undefined,
  errors: {
    row?: number | undefined;
    column?: string | undefined;
    path?: string | undefined;
    message: string;
  }[] = [],
): SafeHtml {
  const content = html`<div class="error" role="alert"><p>${detail ?? title}</p>
${errors.length ? errorList(errors) : ''}</div>
<p><a href="/console">Back to campaigns</a></p>`;
  return ctx
    ? page(ctx, `${status} ${title}`, content)
    : shell(title, html`<main id="main">${content}</main>`);
}

export function errorList(
  errors: {
    row?: number | undefined;
    column?: string | undefined;
    path?: string | undefined;
    sheet?: string | undefined;
    message: string;
  }[],
): SafeHtml {
  return html`<table class="errors"><caption>Problems found</caption>
<thead><tr><th scope="col">Row</th><th scope="col">Column</th><th scope="col">Problem</th></tr></thead>
<tbody>${errors.map(
    (e) =>
      html`<tr><td>${e.row ?? ''}</td><td>${e.sheet ? `${e.sheet} · ` : ''}${e.column ?? e.path ?? ''}</td><td>${e.message}</td></tr>`,
  )}</tbody></table>`;
}
