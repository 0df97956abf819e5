import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Child } from 'hono/jsx';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;
import { formatAmount, parseCurrency } from '../core/money/money.js';
import type { AppContext } from '../http/app.js';
import { csrfPurpose, csrfToken } from '../core/users/sessions.js';
import type { UserKind } from '../core/users/schema.js';
import { readSession, type SignedIn } from './session-auth.js';

/**
 * Shared page furniture for the portal and the console: server-rendered with hono/jsx (escapes every
 * value), one stylesheet, htmx for live regions and one small island script; a strict CSP with no
 * inline script or style.
 */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

export async function sendPage(reply: FastifyReply, page: Html, status = 200): Promise<FastifyReply> {
  const html = (await page).toString();
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', contentSecurityPolicy)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('cache-control', 'no-store')
    .send(`<!doctype html>${html}`);
}

/** A fragment for htmx swaps (same headers, no document around it). */
export async function sendFragment(reply: FastifyReply, fragment: Html): Promise<FastifyReply> {
  const html = (await fragment).toString();
  return reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', contentSecurityPolicy)
    .header('cache-control', 'no-store')
    .send(html);
}

/** The signed-in user, or a redirect to the sign-in page (undefined then: the caller returns). */
export async function requireUser(
  request: FastifyRequest,
  reply: FastifyReply,
  kind: UserKind,
  ctx: AppContext,
): Promise<SignedIn | undefined> {
  const signedIn = await readSession(request, kind, ctx);
  if (signedIn) return signedIn;
  const base = kind === 'merchant' ? '/portal' : '/console';
  await reply.redirect(`${base}/signin?next=${encodeURIComponent(request.url)}`, 303);
  return undefined;
}

export function csrfFor(ctx: AppContext, signedIn: SignedIn): string {
  return csrfToken(ctx.keys.derive(csrfPurpose), signedIn.token);
}

export interface NavItem {
  readonly href: string;
  readonly label: string;
}

export const portalNav: readonly NavItem[] = [
  { href: '/portal/products', label: 'Products' },
  { href: '/portal/sandbox', label: 'Sandbox tools' },
  { href: '/portal/webhooks', label: 'Webhooks' },
  { href: '/portal/activity', label: 'Activity' },
  { href: '/portal/charts', label: 'Charts' },
  { href: '/portal/team', label: 'Team' },
  { href: '/portal/account', label: 'Account' },
];

export const consoleNav: readonly NavItem[] = [
  { href: '/console', label: 'Health' },
  { href: '/console/access-requests', label: 'Access requests' },
  { href: '/console/merchants', label: 'Merchants' },
  { href: '/console/connectors', label: 'Connectors' },
  { href: '/console/payments', label: 'Payments' },
  { href: '/console/ledger', label: 'Ledger' },
  { href: '/console/webhooks', label: 'Webhooks' },
  { href: '/console/jobs', label: 'Jobs' },
  { href: '/console/audit', label: 'Audit log' },
  { href: '/console/charts', label: 'Charts' },
  { href: '/console/operators', label: 'Operators' },
];

export function Layout(props: {
  title: string;
  app: 'portal' | 'console';
  current?: string;
  signedIn?: SignedIn;
  csrf?: string;
  children?: Child;
}) {
  const nav = props.app === 'portal' ? portalNav : consoleNav;
  const home = props.app === 'portal' ? '/portal' : '/console';
  const appName = props.app === 'portal' ? 'Developer portal' : 'Operator console';
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta
          name="htmx-config"
          content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}'
        />
        {props.csrf ? <meta name="csrf-token" content={props.csrf} /> : null}
        <title>{`${props.title} · Payloom ${appName}`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/assets/portal/portal.css" />
        <script src="/assets/vendor/htmx.min.js" defer></script>
        <script src="/assets/portal/portal.js" defer></script>
      </head>
      <body class={`app-${props.app}`}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href={home}>
            Payloom <span>{appName}</span>
          </a>
          {props.signedIn ? (
            <div class="who">
              <span>
                {props.signedIn.user.email} ({props.signedIn.user.role})
              </span>
              <form data-api={`POST /v1/auth/signout`} data-then={`redirect:${home}/signin`}>
                <button type="submit" class="link">
                  Sign out
                </button>
              </form>
            </div>
          ) : null}
        </header>
        {props.signedIn ? (
          <nav aria-label="Main" class="nav">
            <ul>
              {nav.map((item) => (
                <li>
                  <a href={item.href} aria-current={props.current === item.href ? 'page' : undefined}>
                    {item.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        <main id="main">
          <h1>{props.title}</h1>
          {props.signedIn && props.app === 'portal' && !props.signedIn.user.email_verified_at ? (
            <div class="banner warn" role="status">
              Verify your email address to make changes: open the link we sent (in the sandbox, it is in the{' '}
              <a href="/portal/sandbox/mail">mail outbox</a>).{' '}
              <form
                class="inline"
                data-api="POST /v1/auth/verify-email/resend"
                data-then="message:A new link is on its way."
              >
                <button type="submit" class="link">
                  Send a new link
                </button>
              </form>
            </div>
          ) : null}
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** A date rendered in UTC on the server; the island rewrites it in the viewer's time zone. */
export function When(props: { at: Date | string | null | undefined }) {
  if (!props.at) return <span class="muted">—</span>;
  const iso = typeof props.at === 'string' ? props.at : props.at.toISOString();
  return (
    <time datetime={iso} data-local="">
      {iso.replace('T', ' ').slice(0, 19)} UTC
    </time>
  );
}

/** Minor units shown with the currency's exponent from the money module. */
export function formatMoney(amountMinor: bigint | string | number, currency: string): string {
  try {
    return `${formatAmount(BigInt(amountMinor), parseCurrency(currency))} ${currency}`;
  } catch {
    return `${String(amountMinor)} (minor units) ${currency}`;
  }
}

export function Status(props: { value: string }) {
  return <span class={`status status-${props.value}`}>{props.value}</span>;
}

/** Next-page link keeping the current filters in the URL (shareable, back button works). */
export function Pager(props: {
  path: string;
  query: Record<string, string | undefined>;
  next: string | null;
}) {
  if (!props.next) return null;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(props.query)) {
    if (value !== undefined && value !== '' && key !== 'starting_after') params.set(key, value);
  }
  params.set('starting_after', props.next);
  return (
    <p class="pager">
      <a href={`${props.path}?${params.toString()}`}>Next page</a>
    </p>
  );
}

export function Empty(props: { children?: Child }) {
  return <p class="empty">{props.children}</p>;
}

/** A labelled field with a slot for the API's own error message about it. */
export function Field(props: {
  name: string;
  /** Unique on the page when the same field name appears in several forms. */
  id?: string;
  label: string;
  type?: string;
  value?: string;
  required?: boolean;
  autocomplete?: string;
  hint?: string;
  maxlength?: number;
}) {
  const id = `f-${props.id ?? props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value}
        required={props.required}
        autocomplete={props.autocomplete}
        maxlength={props.maxlength}
        aria-describedby={`${id}-error${props.hint ? ` ${id}-hint` : ''}`}
      />
      {props.hint ? (
        <small id={`${id}-hint`} class="hint">
          {props.hint}
        </small>
      ) : null}
      <small id={`${id}-error`} class="error" data-error-for={props.name} aria-live="polite"></small>
    </div>
  );
}

export function FormError() {
  return <p class="error form-error" data-form-error="" role="alert"></p>;
}

export function pageQuery(query: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (typeof query === 'object' && query !== null) {
    for (const [key, value] of Object.entries(query)) if (typeof value === 'string') out[key] = value;
  }
  return out;
}
