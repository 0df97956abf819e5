import type { Child } from 'hono/jsx';

/** Server-rendered pages (hono/jsx escapes every value); no script, one stylesheet, strict CSP. */
export const pageCsp =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'";

export function Page(props: { title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/assets/products/agreements/landing.css" />
      </head>
      <body>
        <main class="card">{props.children}</main>
      </body>
    </html>
  );
}

export interface LandingModel {
  providerName: string;
  plan: string;
  description: string | null;
  amount: string | null;
  currency: string;
  frequency: string;
  oneOff: { amount: string; description: string } | null;
  status: string;
  action: string;
  sandbox: boolean;
  mobile: string | null;
  message: string | null;
}

export const sandboxSources = [
  { value: '4520000000', label: 'Card that works' },
  { value: '4520000003', label: 'Card without money (reservations fail)' },
  { value: '4520000001', label: 'Payer who rejects payments' },
] as const;

export function LandingPage(m: LandingModel) {
  const open = m.status === 'Pending' || (m.status === 'Accepted' && m.oneOff !== null);
  return (
    <Page title={`${m.providerName}: ${m.plan}`}>
      <h1>{m.providerName}</h1>
      <p class="plan">{m.plan}</p>
      {m.description ? <p>{m.description}</p> : null}
      <dl>
        {m.amount !== null ? (
          <>
            <dt>Amount</dt>
            <dd>
              {m.amount} {m.currency}
            </dd>
          </>
        ) : (
          <>
            <dt>Amount</dt>
            <dd>Varies</dd>
          </>
        )}
        <dt>Frequency</dt>
        <dd>{m.frequency}</dd>
        {m.oneOff ? (
          <>
            <dt>Pay now</dt>
            <dd>
              {m.oneOff.amount} {m.currency} — {m.oneOff.description}
            </dd>
          </>
        ) : null}
      </dl>
      {m.message ? (
        <p class="message" role="alert">
          {m.message}
        </p>
      ) : null}
      {open ? (
        <>
          <form method="post" action={m.action}>
            <input type="hidden" name="decision" value="accept" />
            {m.sandbox ? (
              <fieldset>
                <legend>Payment source (sandbox)</legend>
                {sandboxSources.map((s, i) => (
                  <label>
                    <input type="radio" name="source" value={s.value} checked={i === 0} /> {s.label}
                  </label>
                ))}
              </fieldset>
            ) : null}
            <button type="submit" class="accept">
              Accept
            </button>
          </form>
          <form method="post" action={m.action}>
            <input type="hidden" name="decision" value="reject" />
            <button type="submit" class="reject">
              Reject
            </button>
          </form>
        </>
      ) : (
        <p class="status">This agreement is {m.status}.</p>
      )}
    </Page>
  );
}

export function ConsentPage(props: {
  clientName: string;
  action: string;
  hidden: Record<string, string>;
  error: string | null;
}) {
  return (
    <Page title={`Authorize ${props.clientName}`}>
      <h1>Authorize {props.clientName}</h1>
      <p>
        {props.clientName} asks to manage your MobilePay Subscriptions agreements, payments and refunds on
        your behalf. Sign in with your Payloom API key to approve.
      </p>
      {props.error ? (
        <p class="message" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action={props.action}>
        {Object.entries(props.hidden).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <label>
          API key <input type="password" name="api_key" autocomplete="off" required />
        </label>
        <button type="submit" name="decision" value="allow" class="accept">
          Allow
        </button>
        <button type="submit" name="decision" value="deny" class="reject" formnovalidate>
          Deny
        </button>
      </form>
    </Page>
  );
}
