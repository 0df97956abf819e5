import type { FastifyReply, FastifyRequest } from 'fastify';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { raw } from 'hono/html';
import { marked } from 'marked';
import { accessView, listAccess, type AccessView } from '../core/access/access.js';
import { listAudit } from '../core/audit/audit.js';
import { listTestClocks } from '../core/clocks/test-clocks.js';
import { credentialView, listCredentials } from '../core/credentials/credentials.js';
import type { Environment } from '../core/db/schema.js';
import { balances, listLedgerTransactions } from '../core/ledger/ledger.js';
import { findPayment, listPayments, paymentTimeline } from '../core/payments/repo.js';
import { sandboxInbox, smsView } from '../core/sms/outbox.js';
import { listMail, mailView } from '../core/users/mail-outbox.js';
import { listUsers, userView } from '../core/users/users.js';
import { listEndpoints, endpointView } from '../core/webhooks/endpoints.js';
import type { App, RouteContext } from '../http/app.js';
import { pageSizeDefault } from '../http/pagination.js';
import { packageRoot } from '../http/routes/assets.js';
import { productPortalEntries, type ProductPortalEntry } from '../products/index.js';
import { ChartSection } from './charts.js';
import type { SignedIn } from './session-auth.js';
import { paymentStats, statsRange } from './stats.js';
import { recentDeliveries } from './webhook-queries.js';
import {
  csrfFor,
  Empty,
  Field,
  FormError,
  formatMoney,
  Layout,
  Pager,
  pageQuery,
  requireUser,
  sendFragment,
  sendPage,
  Status,
  When,
} from './ui.js';

const envs: readonly Environment[] = ['sandbox', 'production'];
const envLabel: Record<Environment, string> = { sandbox: 'Sandbox', production: 'Production' };

function envOf(value: string | undefined): Environment {
  return value === 'production' ? 'production' : 'sandbox';
}

const hidden = { schema: { hide: true }, config: { auth: 'public' as const } };

interface OpenApiDoc {
  paths?: Record<string, Record<string, { tags?: string[]; summary?: string; requestBody?: unknown }>>;
}

const readmeCache = new Map<string, string>();
async function readmeHtml(entry: ProductPortalEntry): Promise<string> {
  const cached = readmeCache.get(entry.readmePath);
  if (cached !== undefined) return cached;
  const text = await readFile(path.join(packageRoot(), entry.readmePath), 'utf8').catch(() => '');
  // The README is this repository's own file (trusted); merchant data never goes through marked.
  // Headings move down one level: the page has its own h1.
  const html = marked
    .parse(text, { async: false })
    .replace(
      /<(\/?)h([1-5])([ >])/g,
      (_m, slash: string, level: string, end: string) => `<${slash}h${Number(level) + 1}${end}`,
    );
  readmeCache.set(entry.readmePath, html);
  return html;
}

function SubscriptionStatus(props: { access: AccessView }) {
  const a = props.access;
  const polling = a.status === 'pending';
  return (
    <div
      id={`sub-${a.id}`}
      class="sub-status"
      data-status={a.status}
      {...(polling
        ? {
            'hx-get': `/portal/fragments/subscriptions/${a.id}`,
            'hx-trigger': 'every 2s',
            'hx-swap': 'outerHTML',
          }
        : {})}
      aria-live="polite"
    >
      <Status value={a.status} />{' '}
      {a.status === 'pending' ? <span class="muted">Waiting for the operator’s approval.</span> : null}
      {a.status === 'rejected' ? (
        <span class="error">Rejected: {a.decision_reason ?? 'no reason given'}</span>
      ) : null}
      {a.status === 'approved' && a.environment === 'production' ? (
        <span class="ok">Approved — production credentials and Try It are available.</span>
      ) : null}
    </div>
  );
}

export function portalPages(app: App, ctx: RouteContext): void {
  const db = ctx.database.db;

  const page = async (request: FastifyRequest, reply: FastifyReply): Promise<SignedIn | undefined> =>
    requireUser(request, reply, 'merchant', ctx);

  app.get('/portal', hidden, async (_request, reply) => reply.redirect('/portal/products', 303));

  app.get('/portal/signup', hidden, async (_request, reply) =>
    sendPage(
      reply,
      <Layout title="Create your Payloom account" app="portal">
        <div class="auth-box card">
          <form data-api="POST /v1/auth/signup" data-then="redirect:/portal/products" novalidate>
            <Field
              name="merchant_name"
              label="Business name"
              required
              maxlength={200}
              autocomplete="organization"
            />
            <Field name="email" label="Email" type="email" required autocomplete="email" />
            <Field
              name="password"
              label="Password"
              type="password"
              required
              autocomplete="new-password"
              hint="At least 10 characters; not a common password."
            />
            <FormError />
            <button type="submit">Create account</button>
          </form>
          <p>
            Already have an account? <a href="/portal/signin">Sign in</a>
          </p>
        </div>
      </Layout>,
    ),
  );

  app.get('/portal/signin', hidden, async (_request, reply) =>
    sendPage(
      reply,
      <Layout title="Sign in" app="portal">
        <SignInForm kind="merchant" home="/portal/products" />
        <p class="auth-box">
          New here? <a href="/portal/signup">Create an account</a> ·{' '}
          <a href="/portal/reset">Forgot your password?</a>
        </p>
      </Layout>,
    ),
  );

  app.get<{ Querystring: { token?: string } }>('/portal/verify-email', hidden, async (request, reply) =>
    sendPage(
      reply,
      <Layout title="Verify your email" app="portal">
        <div class="auth-box card">
          <form data-api="POST /v1/auth/verify-email" data-then="redirect:/portal/products">
            <input type="hidden" name="token" value={request.query.token ?? ''} />
            <p>Confirm that this email address is yours.</p>
            <FormError />
            <button type="submit">Verify my email</button>
          </form>
        </div>
      </Layout>,
    ),
  );

  app.get<{ Querystring: { token?: string } }>('/portal/reset', hidden, async (request, reply) =>
    sendPage(reply, <ResetPage kind="merchant" token={request.query.token} />),
  );

  app.get('/portal/products', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn?.user.merchant_id) return reply;
    const rows = await listAccess(db, { merchantId: signedIn.user.merchant_id, limit: 100 });
    const live = rows.map(accessView);
    const entries = productPortalEntries();
    return sendPage(
      reply,
      <Layout
        title="Products"
        app="portal"
        current="/portal/products"
        signedIn={signedIn}
        csrf={csrfFor(ctx, signedIn)}
      >
        {entries.length === 0 ? <Empty>No products are installed on this Payloom yet.</Empty> : null}
        <div class="grid">
          {entries.map((entry) => (
            <section class="card" aria-labelledby={`p-${entry.product}`}>
              <h2 id={`p-${entry.product}`}>
                <a href={`/portal/products/${entry.product}`}>{entry.title}</a>
              </h2>
              <p>{entry.summary}</p>
              <ul>
                {envs.map((env) => {
                  const sub = live.find(
                    (a) =>
                      a.product === entry.product &&
                      a.environment === env &&
                      (a.status === 'approved' || a.status === 'pending'),
                  );
                  return (
                    <li>
                      {envLabel[env]}:{' '}
                      {sub ? (
                        <>
                          {sub.name} <Status value={sub.status} />
                        </>
                      ) : (
                        <span class="muted">no subscription</span>
                      )}
                    </li>
                  );
                })}
              </ul>
              <p>
                <a class="button" href={`/portal/products/${entry.product}`}>
                  Open {entry.title}
                </a>
              </p>
            </section>
          ))}
        </div>
      </Layout>,
    );
  });

  app.get<{ Params: { product: string } }>('/portal/products/:product', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn?.user.merchant_id) return reply;
    const merchantId = signedIn.user.merchant_id;
    const entry = productPortalEntries().find((e) => e.product === request.params.product);
    if (!entry) return sendPage(reply, <NotFound signedIn={signedIn} />, 404);
    const [rows, creds, readme] = await Promise.all([
      listAccess(db, { merchantId, limit: 100 }),
      listCredentials(db, { merchantId }),
      readmeHtml(entry),
    ]);
    const subs = rows.map(accessView).filter((a) => a.product === entry.product);
    const now = ctx.clock.now();
    const doc = app.swagger() as OpenApiDoc;
    const operations = Object.entries(doc.paths ?? {}).flatMap(([p, methods]) =>
      Object.entries(methods)
        .filter(([, op]) => op.tags?.includes(entry.openApiTag))
        .map(([method, op]) => ({ path: p, method: method.toUpperCase(), summary: op.summary ?? '' })),
    );
    const canManage = signedIn.user.role === 'owner';
    const canWrite = signedIn.user.role !== 'viewer';
    return sendPage(
      reply,
      <Layout
        title={entry.title}
        app="portal"
        current="/portal/products"
        signedIn={signedIn}
        csrf={csrfFor(ctx, signedIn)}
      >
        <p>{entry.summary}</p>
        <div class="grid">
          {envs.map((env) => {
            const sub = subs.find(
              (a) => a.environment === env && (a.status === 'approved' || a.status === 'pending'),
            );
            const past = subs.filter((a) => a.environment === env && a !== sub);
            const mayChange = env === 'sandbox' ? canWrite : canManage;
            const envCreds = creds
              .filter((c) => c.environment === env && c.dialect === entry.dialect)
              .map((c) => credentialView(c, now));
            return (
              <section class="card" aria-labelledby={`env-${env}`} data-env-section={env}>
                <h2 id={`env-${env}`}>{envLabel[env]}</h2>
                {sub ? (
                  <>
                    <p>
                      Subscription <b data-sub-name="">{sub.name}</b>
                    </p>
                    <SubscriptionStatus access={sub} />
                    {mayChange ? (
                      <>
                        <form
                          class="row"
                          data-api={`PATCH /v1/access-requests/${sub.id}`}
                          data-env={env}
                          data-then="reload"
                        >
                          <Field
                            name="name"
                            id={`${env}-rename`}
                            label="Rename"
                            value={sub.name}
                            maxlength={200}
                          />
                          <button type="submit" class="secondary">
                            Rename
                          </button>
                          <FormError />
                        </form>
                        <form
                          data-api={`POST /v1/subscriptions/${sub.id}/cancel`}
                          data-env={env}
                          data-confirm="Cancel this subscription? Its credentials stop working at once."
                        >
                          <button type="submit" class="danger">
                            Cancel subscription
                          </button>
                          <FormError />
                        </form>
                      </>
                    ) : null}
                    <h3>Credentials</h3>
                    {envCreds.length === 0 ? (
                      <Empty>No credentials yet.</Empty>
                    ) : (
                      <CredentialTable creds={envCreds} env={env} canWrite={mayChange} />
                    )}
                    {sub.status === 'approved' && mayChange ? (
                      <form
                        data-api={`POST /v1/subscriptions/${sub.id}/credentials`}
                        data-env={env}
                        data-then="secret"
                        data-subscription={sub.id}
                        data-fields={JSON.stringify(entry.credentialFields)}
                        data-secret-target={`secret-${env}`}
                      >
                        <FormError />
                        <button type="submit">Create credentials</button>
                      </form>
                    ) : null}
                    {sub.status === 'pending' ? (
                      <p class="muted">
                        Production credentials are issued once the subscription is approved.
                      </p>
                    ) : null}
                    <div id={`secret-${env}`}></div>
                    <p>
                      <a class="button go" href={`/portal/products/${entry.product}/try-it?env=${env}`}>
                        Try It ({envLabel[env]})
                      </a>
                    </p>
                  </>
                ) : mayChange ? (
                  <form data-api="POST /v1/access-requests" data-env={env} data-then="reload">
                    <input type="hidden" name="product" value={entry.product} />
                    <Field
                      name="name"
                      id={`${env}-name`}
                      label="Subscription name"
                      required
                      maxlength={200}
                      hint={
                        env === 'production'
                          ? 'Goes to the operator for approval.'
                          : 'Sandbox access is granted at once.'
                      }
                    />
                    <FormError />
                    <button type="submit">
                      {env === 'production' ? 'Request production access' : 'Subscribe in sandbox'}
                    </button>
                  </form>
                ) : (
                  <Empty>
                    No subscription. {env === 'production' ? 'An owner can request production access.' : ''}
                  </Empty>
                )}
                {past.length > 0 ? (
                  <details>
                    <summary>Earlier subscriptions ({past.length})</summary>
                    <ul>
                      {past.map((a) => (
                        <li>
                          {a.name} <Status value={a.status} />{' '}
                          {a.decision_reason ? `— ${a.decision_reason}` : ''}
                        </li>
                      ))}
                    </ul>
                  </details>
                ) : null}
              </section>
            );
          })}
        </div>
        <h2>API reference</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Method</th>
                <th scope="col">Path</th>
                <th scope="col">What it does</th>
              </tr>
            </thead>
            <tbody>
              {operations.map((op) => (
                <tr>
                  <td>{op.method}</td>
                  <td>
                    <code>{op.path}</code>
                  </td>
                  <td>{op.summary}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p>
          Full OpenAPI document: <a href="/openapi.json">/openapi.json</a> ·{' '}
          <a href="/docs">interactive docs</a>
        </p>
        <h2>Documentation</h2>
        <article class="readme">{raw(readme)}</article>
      </Layout>,
    );
  });

  app.get<{ Params: { id: string } }>(
    '/portal/fragments/subscriptions/:id',
    hidden,
    async (request, reply) => {
      const signedIn = await page(request, reply);
      if (!signedIn?.user.merchant_id) return reply;
      const rows = await listAccess(db, { merchantId: signedIn.user.merchant_id, limit: 100 });
      const row = rows.find((r) => r.id === request.params.id);
      if (!row) return reply.code(404).send('');
      return sendFragment(reply, <SubscriptionStatus access={accessView(row)} />);
    },
  );

  app.get<{ Params: { product: string }; Querystring: { env?: string } }>(
    '/portal/products/:product/try-it',
    hidden,
    async (request, reply) => {
      const signedIn = await page(request, reply);
      if (!signedIn?.user.merchant_id) return reply;
      const merchantId = signedIn.user.merchant_id;
      const entry = productPortalEntries().find((e) => e.product === request.params.product);
      if (!entry) return sendPage(reply, <NotFound signedIn={signedIn} />, 404);
      const env = envOf(request.query.env);
      const rows = await listAccess(db, { merchantId, environment: env, limit: 100 });
      const sub = rows
        .map(accessView)
        .find((a) => a.product === entry.product && (a.status === 'approved' || a.status === 'pending'));
      const enabled = sub?.status === 'approved';
      const values = enabled
        ? ((await entry.exampleValues?.(db, { merchantId, environment: env })) ?? {})
        : {};
      const reason = !sub
        ? `Subscribe to ${entry.title} in ${env} first (Products).`
        : sub.status === 'pending'
          ? 'Disabled until the operator approves your production subscription; the production key is filled in only after approval.'
          : '';
      const data = {
        environment: env,
        basePath: entry.basePath[env],
        methods: entry.tryIt,
        values,
        subscriptionId: enabled && sub ? sub.id : null,
        enabled,
      };
      return sendPage(
        reply,
        <Layout
          title={`Try It · ${entry.title}`}
          app="portal"
          current="/portal/products"
          signedIn={signedIn}
          csrf={csrfFor(ctx, signedIn)}
        >
          <p>
            Environment:{' '}
            {envs.map((e) => (
              <>
                <a
                  href={`/portal/products/${entry.product}/try-it?env=${e}`}
                  aria-current={e === env ? 'page' : undefined}
                >
                  {envLabel[e]}
                </a>{' '}
              </>
            ))}
          </p>
          {reason ? (
            <p class="banner warn" id="tryit-disabled-reason">
              {reason}
            </p>
          ) : null}
          <div id="tryit" data-tryit={JSON.stringify(data)} class="tryit-grid">
            <section class="card">
              <div class="field">
                <label for="tryit-method">Method</label>
                <select id="tryit-method">
                  {entry.tryIt.map((m) => (
                    <option value={m.name}>
                      {m.name} — {m.summary}
                    </option>
                  ))}
                </select>
              </div>
              <p>
                <code id="tryit-url"></code>
              </p>
              <p id="tryit-credentials" class="muted" aria-live="polite"></p>
              {enabled && sub ? (
                <form
                  data-api={`POST /v1/subscriptions/${sub.id}/credentials`}
                  data-env={env}
                  data-then="secret"
                  data-subscription={sub.id}
                  data-fields={JSON.stringify(entry.credentialFields)}
                  data-secret-target="tryit-secret"
                >
                  <FormError />
                  <button type="submit" class="secondary">
                    Issue new credentials for Try It
                  </button>
                </form>
              ) : null}
              <div id="tryit-secret"></div>
              <div class="field">
                <label for="tryit-headers">Headers (JSON)</label>
                <textarea id="tryit-headers" rows={4}></textarea>
              </div>
              <div class="field">
                <label for="tryit-body">Body (JSON)</label>
                <textarea id="tryit-body" rows={14}></textarea>
              </div>
              <div class="row">
                <button
                  type="button"
                  id="tryit-send"
                  class="go"
                  disabled={!enabled}
                  aria-describedby={reason ? 'tryit-disabled-reason' : undefined}
                >
                  Send
                </button>
                <button type="button" id="tryit-curl" class="secondary">
                  Copy as curl
                </button>
              </div>
              <pre id="tryit-curl-text"></pre>
            </section>
            <section class="card" aria-labelledby="tryit-response">
              <h2 id="tryit-response">Response</h2>
              <div id="tryit-result" aria-live="polite">
                <p class="muted">Send a request to see its status, headers and body here.</p>
              </div>
            </section>
          </div>
        </Layout>,
      );
    },
  );

  app.get('/portal/sandbox', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn) return reply;
    const simulations = productPortalEntries().flatMap((e) =>
      (e.payerSimulation ?? []).map((s) => ({ ...s, product: e.title })),
    );
    return sendPage(
      reply,
      <Layout
        title="Sandbox tools"
        app="portal"
        current="/portal/sandbox"
        signedIn={signedIn}
        csrf={csrfFor(ctx, signedIn)}
      >
        <div class="grid">
          <section class="card">
            <h2>
              <a href="/portal/sandbox/phone">Sandbox phone</a>
            </h2>
            <p>SMS the sandbox sent to any MSISDN (PIN codes included), newest first, updating live.</p>
          </section>
          <section class="card">
            <h2>
              <a href="/portal/sandbox/mail">Mail outbox</a>
            </h2>
            <p>Verification, reset and invitation mail Payloom wrote for your team.</p>
          </section>
          <section class="card">
            <h2>
              <a href="/portal/sandbox/clocks">Test clocks</a>
            </h2>
            <p>Freeze time for sandbox objects and move it forward to run what is due.</p>
          </section>
          <section class="card">
            <h2>Payer simulation</h2>
            {simulations.length === 0 ? (
              <Empty>
                No product offers payer simulation yet. Products with payer actions (accepting agreements,
                paying one-offs) list them here.
              </Empty>
            ) : (
              <ul>
                {simulations.map((s) => (
                  <li>
                    <a href={s.href}>{s.label}</a> ({s.product}) — {s.description}
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      </Layout>,
    );
  });

  app.get<{ Querystring: { msisdn?: string } }>('/portal/sandbox/phone', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn?.user.merchant_id) return reply;
    const msisdn = /^[1-9]\d{6,14}$/.test(request.query.msisdn ?? '') ? (request.query.msisdn ?? '') : '';
    const inbox = await phoneInbox(signedIn.user.merchant_id, msisdn);
    return sendPage(
      reply,
      <Layout
        title="Sandbox phone"
        app="portal"
        current="/portal/sandbox"
        signedIn={signedIn}
        csrf={csrfFor(ctx, signedIn)}
      >
        <form method="get" action="/portal/sandbox/phone" class="filters">
          <div class="field">
            <label for="msisdn">Phone number (MSISDN)</label>
            <input id="msisdn" name="msisdn" inputmode="numeric" value={msisdn} placeholder="447700900123" />
          </div>
          <button type="submit">Show messages</button>
        </form>
        <p class="muted">
          {msisdn ? `Messages to +${msisdn}, newest first.` : 'All sandbox messages, newest first.'}
        </p>
        <div
          id="phone-inbox"
          hx-get={`/portal/sandbox/phone/inbox${msisdn ? `?msisdn=${msisdn}` : ''}`}
          hx-trigger="every 2s"
          hx-swap="innerHTML"
          aria-live="polite"
        >
          {inbox}
        </div>
      </Layout>,
    );
  });

  async function phoneInbox(merchantId: string, msisdn: string) {
    const rows = await sandboxInbox(db, { merchantId, limit: 50, ...(msisdn ? { to: msisdn } : {}) });
    const messages = rows.map(smsView);
    if (messages.length === 0)
      return <Empty>No messages yet. Send a PIN with Try It and it appears here.</Empty>;
    return (
      <>
        {messages.map((m) => (
          <article class="sms" data-sms-id={m.id}>
            <p class="muted">
              To +{m.to} · from {m.from} · <When at={m.created_at} /> · <Status value={m.status} />
            </p>
            {'code' in m && typeof m.code === 'string' ? (
              <p>
                PIN{' '}
                <span class="code" data-pin="">
                  {m.code}
                </span>
              </p>
            ) : null}
            <p>{m.text}</p>
          </article>
        ))}
      </>
    );
  }

  app.get<{ Querystring: { msisdn?: string } }>(
    '/portal/sandbox/phone/inbox',
    hidden,
    async (request, reply) => {
      const signedIn = await page(request, reply);
      if (!signedIn?.user.merchant_id) return reply;
      const msisdn = /^[1-9]\d{6,14}$/.test(request.query.msisdn ?? '') ? (request.query.msisdn ?? '') : '';
      return sendFragment(reply, await phoneInbox(signedIn.user.merchant_id, msisdn));
    },
  );

  app.get<{ Querystring: { starting_after?: string } }>(
    '/portal/sandbox/mail',
    hidden,
    async (request, reply) => {
      const signedIn = await page(request, reply);
      if (!signedIn?.user.merchant_id) return reply;
      const rows = await listMail(db, {
        merchantId: signedIn.user.merchant_id,
        limit: pageSizeDefault,
        ...(request.query.starting_after ? { startingAfter: request.query.starting_after } : {}),
      });
      const mails = rows.slice(0, pageSizeDefault).map(mailView);
      return sendPage(
        reply,
        <Layout
          title="Mail outbox"
          app="portal"
          current="/portal/sandbox"
          signedIn={signedIn}
          csrf={csrfFor(ctx, signedIn)}
        >
          {mails.length === 0 ? <Empty>No mail yet.</Empty> : null}
          {mails.map((m) => (
            <article class="card" data-mail-id={m.id}>
              <h2>{m.subject}</h2>
              <p class="muted">
                To {m.to} · <When at={m.created_at} /> · <Status value={m.status} />
              </p>
              <MailBody text={m.text} baseUrl={ctx.config.baseUrl} />
            </article>
          ))}
          <Pager
            path="/portal/sandbox/mail"
            query={pageQuery(request.query)}
            next={rows.length > pageSizeDefault ? (mails.at(-1)?.id ?? null) : null}
          />
        </Layout>,
      );
    },
  );

  app.get('/portal/sandbox/clocks', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn?.user.merchant_id) return reply;
    const clocks = await listTestClocks(db, signedIn.user.merchant_id);
    const attached =
      clocks.length === 0
        ? []
        : await db
            .selectFrom('payments')
            .select(['id', 'status', 'test_clock_id', 'amount_minor', 'currency'])
            .where('merchant_id', '=', signedIn.user.merchant_id)
            .where(
              'test_clock_id',
              'in',
              clocks.map((c) => c.id),
            )
            .orderBy('id', 'desc')
            .limit(200)
            .execute();
    return sendPage(
      reply,
      <Layout
        title="Test clocks"
        app="portal"
        current="/portal/sandbox"
        signedIn={signedIn}
        csrf={csrfFor(ctx, signedIn)}
      >
        <section class="card">
          <h2>New test clock</h2>
          <form data-api="POST /v1/sandbox/test-clocks" data-env="sandbox" data-then="reload">
            <Field name="name" label="Name" maxlength={200} />
            <Field
              name="frozen_time"
              label="Frozen time (ISO 8601, UTC)"
              value={ctx.clock.now().toISOString()}
              required
            />
            <FormError />
            <button type="submit">Create</button>
          </form>
        </section>
        {clocks.length === 0 ? (
          <Empty>No test clocks. Create one, attach sandbox objects to it, then advance it.</Empty>
        ) : null}
        {clocks.map((c) => (
          <section class="card">
            <h2>{c.name || c.id}</h2>
            <p>
              Now: <When at={c.frozen_time} /> · <code>{c.id}</code>
            </p>
            <form
              class="row"
              data-api={`POST /v1/sandbox/test-clocks/${c.id}/advance`}
              data-env="sandbox"
              data-then="reload"
            >
              <Field
                name="frozen_time"
                id={`${c.id}-time`}
                label="Advance to (ISO 8601)"
                value={c.frozen_time.toISOString()}
              />
              <button type="submit">Advance</button>
              <FormError />
            </form>
            <h3>Attached objects</h3>
            {attached.filter((p) => p.test_clock_id === c.id).length === 0 ? (
              <p class="muted">Nothing attached yet: pass this clock's id when you create sandbox objects.</p>
            ) : (
              <ul>
                {attached
                  .filter((p) => p.test_clock_id === c.id)
                  .map((p) => (
                    <li>
                      <a href={`/portal/activity/payments/${p.id}`}>{p.id}</a> <Status value={p.status} />{' '}
                      {formatMoney(p.amount_minor, p.currency)}
                    </li>
                  ))}
              </ul>
            )}
          </section>
        ))}
      </Layout>,
    );
  });

  app.get<{ Querystring: { env?: string } }>('/portal/webhooks', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn?.user.merchant_id) return reply;
    const env = envOf(request.query.env);
    const scope = { merchantId: signedIn.user.merchant_id, environment: env };
    const [endpointRows, deliveries] = await Promise.all([
      listEndpoints(db, scope),
      recentDeliveries(db, scope, 20),
    ]);
    const endpoints = endpointRows.map(endpointView);
    return sendPage(
      reply,
      <Layout
        title="Webhooks"
        app="portal"
        current="/portal/webhooks"
        signedIn={signedIn}
        csrf={csrfFor(ctx, signedIn)}
      >
        <EnvSwitch path="/portal/webhooks" env={env} />
        <section class="card">
          <h2>Add an endpoint</h2>
          <form
            data-api="POST /v1/webhook-endpoints"
            data-env={env}
            data-then="show-json"
            data-secret-target="webhook-secret"
          >
            <Field
              name="url"
              label="URL"
              type="url"
              required
              maxlength={2048}
              hint="https:// in production."
            />
            <Field name="description" label="Description" maxlength={500} />
            <FormError />
            <button type="submit">Add endpoint</button>
          </form>
          <div id="webhook-secret"></div>
        </section>
        {endpoints.length === 0 ? <Empty>No endpoints in {env}. Add one to receive events.</Empty> : null}
        {endpoints.map((e) => (
          <section class="card">
            <h2>
              <code>{e.url}</code>
            </h2>
            <p>
              {e.description} <Status value={e.enabled ? 'active' : 'disabled'} /> · <code>{e.id}</code>
            </p>
            <div class="row">
              <form
                data-api={`POST /v1/webhook-endpoints/${e.id}/rotate-secret`}
                data-env={env}
                data-then="show-json"
                data-secret-target={`rot-${e.id}`}
              >
                <button type="submit" class="secondary">
                  Rotate secret
                </button>
                <FormError />
              </form>
              <form data-api={`PATCH /v1/webhook-endpoints/${e.id}`} data-env={env}>
                <input
                  type="hidden"
                  name="enabled"
                  data-type="boolean"
                  value={e.enabled ? 'false' : 'true'}
                />
                <button type="submit" class="secondary">
                  {e.enabled ? 'Disable' : 'Enable'}
                </button>
                <FormError />
              </form>
            </div>
            <div id={`rot-${e.id}`}></div>
            <form
              class="row"
              data-api={`PATCH /v1/webhook-endpoints/${e.id}`}
              data-env={env}
              data-then="reload"
            >
              <Field
                name="description"
                id={`${e.id}-description`}
                label="Description"
                value={e.description ?? ''}
                maxlength={500}
              />
              <button type="submit" class="secondary">
                Save
              </button>
              <FormError />
            </form>
          </section>
        ))}
        <h2>Deliveries</h2>
        {deliveries.length === 0 ? <Empty>No deliveries yet. Send a test event below.</Empty> : null}
        {deliveries.length > 0 ? (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts (status, latency, answer)</th>
                  <th scope="col">Replay</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.map((d) => (
                  <tr data-delivery-id={d.id}>
                    <td>
                      {d.event_type}
                      <br />
                      <code>{d.event_id}</code>
                    </td>
                    <td>
                      <code>{d.url}</code>
                    </td>
                    <td>
                      <Status value={d.status} />
                    </td>
                    <td>
                      {d.attempt_log.length === 0 ? (
                        <span class="muted">not attempted yet</span>
                      ) : (
                        <ol>
                          {d.attempt_log.map((a) => (
                            <li>
                              <When at={a.at} /> · {a.outcome} {a.status_code ?? ''} · {a.latency_ms} ms
                              {a.response_snippet ? (
                                <>
                                  {' '}
                                  · <code>{a.response_snippet.slice(0, 120)}</code>
                                </>
                              ) : null}
                              {a.error ? <span class="error"> {a.error}</span> : null}
                            </li>
                          ))}
                        </ol>
                      )}
                    </td>
                    <td>
                      <form data-api={`POST /v1/webhook-deliveries/${d.id}/retry`} data-env={env}>
                        <button type="submit" class="secondary">
                          Replay
                        </button>
                        <FormError />
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        <section class="card">
          <h2>Send a test event</h2>
          <form
            data-api="POST /v1/webhook-endpoints/test-event"
            data-env={env}
            data-then="show-json"
            data-secret-target="test-event-out"
          >
            <FormError />
            <button type="submit">Send test event</button>
          </form>
          <div id="test-event-out"></div>
        </section>
      </Layout>,
    );
  });

  app.get<{ Querystring: { env?: string; status?: string; product?: string; starting_after?: string } }>(
    '/portal/activity',
    hidden,
    async (request, reply) => {
      const signedIn = await page(request, reply);
      if (!signedIn?.user.merchant_id) return reply;
      const merchantId = signedIn.user.merchant_id;
      const env = envOf(request.query.env);
      const statuses = [
        'pending',
        'authorized',
        'captured',
        'voided',
        'expired',
        'succeeded',
        'failed',
        'unknown',
      ] as const;
      const status = statuses.find((s) => s === request.query.status);
      const product = productPortalEntries().find((e) => e.product === request.query.product)?.product;
      const [rows, bal, audit] = await Promise.all([
        listPayments(db, {
          merchantId,
          environment: env,
          limit: pageSizeDefault,
          ...(status ? { status } : {}),
          ...(product ? { product } : {}),
          ...(request.query.starting_after ? { startingAfter: request.query.starting_after } : {}),
        }),
        balances(db, merchantId, env),
        listAudit(db, { merchantId, limit: 20 }),
      ]);
      const paymentsPage = rows.slice(0, pageSizeDefault);
      return sendPage(
        reply,
        <Layout
          title="Activity"
          app="portal"
          current="/portal/activity"
          signedIn={signedIn}
          csrf={csrfFor(ctx, signedIn)}
        >
          <EnvSwitch path="/portal/activity" env={env} />
          <h2>Balances</h2>
          {bal.length === 0 ? (
            <Empty>No money has moved in {env} yet.</Empty>
          ) : (
            <div class="kpis">
              {bal.map((b) => (
                <div class="kpi">
                  <span>{b.currency} available</span>
                  <b>{formatMoney(b.available_minor, b.currency)}</b>
                  <small class="muted">held {formatMoney(b.held_minor, b.currency)}</small>
                </div>
              ))}
            </div>
          )}
          <h2>Payments</h2>
          <form method="get" action="/portal/activity" class="filters">
            <input type="hidden" name="env" value={env} />
            <div class="field">
              <label for="f-status">Status</label>
              <select id="f-status" name="status">
                <option value="">Any</option>
                {statuses.map((s) => (
                  <option value={s} selected={s === status}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="f-product">Product</label>
              <select id="f-product" name="product">
                <option value="">Any</option>
                {productPortalEntries().map((e) => (
                  <option value={e.product} selected={e.product === product}>
                    {e.title}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit">Filter</button>
          </form>
          {paymentsPage.length === 0 ? (
            <Empty>No payments match. Make one with Try It on a product page.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Payment</th>
                    <th scope="col">Product</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">
                      Amount
                    </th>
                    <th scope="col">Payer</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {paymentsPage.map((p) => (
                    <tr>
                      <td>
                        <a href={`/portal/activity/payments/${p.id}?env=${env}`}>{p.id}</a>
                      </td>
                      <td>{p.product}</td>
                      <td>
                        <Status value={p.status} />
                      </td>
                      <td class="num">{formatMoney(p.amount_minor, p.currency)}</td>
                      <td>{p.payer_ref}</td>
                      <td>
                        <When at={p.created_at} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager
            path="/portal/activity"
            query={pageQuery(request.query)}
            next={rows.length > pageSizeDefault ? (paymentsPage.at(-1)?.id ?? null) : null}
          />
          <h2>Request log (changes)</h2>
          <p class="muted">
            Your team's and your keys' latest writes to the API, with their request ids (secrets are never
            logged).
          </p>
          {audit.length === 0 ? (
            <Empty>No requests yet.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Action</th>
                    <th scope="col">Status</th>
                    <th scope="col">Actor</th>
                    <th scope="col">Request id</th>
                  </tr>
                </thead>
                <tbody>
                  {audit.slice(0, 20).map((a) => (
                    <tr>
                      <td>
                        <When at={a.occurred_at} />
                      </td>
                      <td>
                        <code>{a.action}</code>
                      </td>
                      <td>{a.status_code}</td>
                      <td>{a.actor_id}</td>
                      <td>
                        <code>{a.request_id}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Layout>,
      );
    },
  );

  app.get<{ Params: { id: string }; Querystring: { env?: string } }>(
    '/portal/activity/payments/:id',
    hidden,
    async (request, reply) => {
      const signedIn = await page(request, reply);
      if (!signedIn?.user.merchant_id) return reply;
      const merchantId = signedIn.user.merchant_id;
      const payment = await findPayment(db, { merchantId }, request.params.id);
      if (!payment) return sendPage(reply, <NotFound signedIn={signedIn} />, 404);
      const [timeline, ledger] = await Promise.all([
        paymentTimeline(db, merchantId, payment.id),
        listLedgerTransactions(db, {
          merchantId,
          environment: payment.environment,
          limit: 50,
          paymentId: payment.id,
        }),
      ]);
      return sendPage(
        reply,
        <Layout
          title={`Payment ${payment.id}`}
          app="portal"
          current="/portal/activity"
          signedIn={signedIn}
          csrf={csrfFor(ctx, signedIn)}
        >
          <section class="card">
            <dl class="props">
              <dt>Status</dt>
              <dd>
                <Status value={payment.status} />
              </dd>
              <dt>Amount</dt>
              <dd>{formatMoney(payment.amount_minor, payment.currency)}</dd>
              <dt>Product</dt>
              <dd>{payment.product}</dd>
              <dt>Environment</dt>
              <dd>{payment.environment}</dd>
              <dt>Payer</dt>
              <dd>{payment.payer_ref}</dd>
              <dt>Reference</dt>
              <dd>{payment.reference ?? '—'}</dd>
              <dt>Description</dt>
              <dd>{payment.description ?? '—'}</dd>
              <dt>Connector</dt>
              <dd>
                {payment.connector_id} {payment.raw_code ? `(code ${payment.raw_code})` : ''}
              </dd>
              <dt>Created</dt>
              <dd>
                <When at={payment.created_at} />
              </dd>
            </dl>
          </section>
          <h2>Timeline</h2>
          <ol class="timeline">
            {timeline.map((t) => (
              <li>
                <When at={t.at} />: {t.from_status ?? 'new'} → <Status value={t.to_status} /> ({t.event})
                {t.amount_minor !== null ? ` ${formatMoney(t.amount_minor, payment.currency)}` : ''}
              </li>
            ))}
          </ol>
          <h2>Ledger postings</h2>
          {ledger.length === 0 ? (
            <Empty>No postings (nothing moved yet).</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Transaction</th>
                    <th scope="col">Account</th>
                    <th scope="col" class="num">
                      Debit
                    </th>
                    <th scope="col" class="num">
                      Credit
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {ledger.flatMap((tx) =>
                    tx.entries.map((e) => (
                      <tr>
                        <td>
                          {tx.kind} <code>{tx.id}</code>
                        </td>
                        <td>{e.role}</td>
                        <td class="num">
                          {e.debit_minor === '0' ? '' : formatMoney(e.debit_minor, e.currency)}
                        </td>
                        <td class="num">
                          {e.credit_minor === '0' ? '' : formatMoney(e.credit_minor, e.currency)}
                        </td>
                      </tr>
                    )),
                  )}
                </tbody>
              </table>
            </div>
          )}
        </Layout>,
      );
    },
  );

  app.get<{ Querystring: { from?: string; to?: string; env?: string } }>(
    '/portal/charts',
    hidden,
    async (request, reply) => {
      const signedIn = await page(request, reply);
      if (!signedIn?.user.merchant_id) return reply;
      const env = envOf(request.query.env);
      const day = /^\d{4}-\d{2}-\d{2}$/;
      const from = day.test(request.query.from ?? '') ? request.query.from : undefined;
      const to = day.test(request.query.to ?? '') ? request.query.to : undefined;
      const range = statsRange(ctx.clock.now(), from, to);
      const stats = await paymentStats(
        db,
        { merchantId: signedIn.user.merchant_id, environment: env },
        range,
      );
      return sendPage(
        reply,
        <Layout
          title="Charts"
          app="portal"
          current="/portal/charts"
          signedIn={signedIn}
          csrf={csrfFor(ctx, signedIn)}
        >
          <ChartSection stats={stats} action="/portal/charts" env={env} apiPath={`/v1/stats`} />
        </Layout>,
      );
    },
  );

  app.get('/portal/team', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn?.user.merchant_id) return reply;
    const users = (
      await listUsers(db, { kind: 'merchant', merchantId: signedIn.user.merchant_id, limit: 100 })
    ).map(userView);
    const owner = signedIn.user.role === 'owner';
    return sendPage(
      reply,
      <Layout
        title="Team"
        app="portal"
        current="/portal/team"
        signedIn={signedIn}
        csrf={csrfFor(ctx, signedIn)}
      >
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Second factor</th>
                <th scope="col">Status</th>
                {owner ? <th scope="col">Change</th> : null}
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr>
                  <td>{u.email}</td>
                  <td>{u.role}</td>
                  <td>{u.totp_enabled ? 'TOTP' : '—'}</td>
                  <td>
                    <Status value={u.disabled_at ? 'disabled' : 'active'} />
                  </td>
                  {owner ? (
                    <td>
                      {u.id === signedIn.user.id ? (
                        <span class="muted">you</span>
                      ) : (
                        <div class="row">
                          <form class="row" data-api={`PATCH /v1/users/${u.id}`} data-then="reload">
                            <label class="sr-only" for={`role-${u.id}`}>
                              Role of {u.email}
                            </label>
                            <select id={`role-${u.id}`} name="role">
                              {(['owner', 'developer', 'viewer'] as const).map((r) => (
                                <option value={r} selected={r === u.role}>
                                  {r}
                                </option>
                              ))}
                            </select>
                            <button type="submit" class="secondary">
                              Save role
                            </button>
                            <FormError />
                          </form>
                          <form data-api={`PATCH /v1/users/${u.id}`} data-then="reload">
                            <input
                              type="hidden"
                              name="disabled"
                              data-type="boolean"
                              value={u.disabled_at ? 'false' : 'true'}
                            />
                            <button type="submit" class={u.disabled_at ? 'secondary' : 'danger'}>
                              {u.disabled_at ? 'Enable' : 'Disable'}
                            </button>
                          </form>
                        </div>
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {owner ? (
          <section class="card">
            <h2>Invite a teammate</h2>
            <form data-api="POST /v1/users" data-then="reload">
              <Field name="email" label="Email" type="email" required />
              <div class="field">
                <label for="f-role">Role</label>
                <select id="f-role" name="role">
                  <option value="developer">
                    Developer — builds in sandbox, cannot manage production access or team
                  </option>
                  <option value="viewer">Viewer — reads only</option>
                  <option value="owner">Owner — everything</option>
                </select>
                <small class="error" data-error-for="role"></small>
              </div>
              <FormError />
              <button type="submit">Send invitation</button>
            </form>
          </section>
        ) : (
          <p class="muted">Only owners invite teammates.</p>
        )}
      </Layout>,
    );
  });

  app.get('/portal/account', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn) return reply;
    return sendPage(
      reply,
      <Layout
        title="Account"
        app="portal"
        current="/portal/account"
        signedIn={signedIn}
        csrf={csrfFor(ctx, signedIn)}
      >
        <AccountBody signedIn={signedIn} />
      </Layout>,
    );
  });
}

export function AccountBody(props: { signedIn: SignedIn }) {
  const user = props.signedIn.user;
  return (
    <section class="card">
      <h2>Two-step sign-in (TOTP)</h2>
      {user.totp_enabled_at ? (
        <p class="ok">An authenticator app is required at sign-in.</p>
      ) : (
        <>
          <p>Add an authenticator app: each sign-in then also asks for its 6-digit code.</p>
          <form data-api="POST /v1/auth/totp" data-then="show-json" data-secret-target="totp-secret">
            <FormError />
            <button type="submit">Set up an authenticator app</button>
          </form>
          <div id="totp-secret"></div>
          <form data-api="POST /v1/auth/totp/confirm" data-then="reload">
            <Field name="code" label="Code from the app" autocomplete="one-time-code" />
            <FormError />
            <button type="submit">Turn on</button>
          </form>
        </>
      )}
    </section>
  );
}

function EnvSwitch(props: { path: string; env: Environment }) {
  return (
    <p>
      Environment:{' '}
      {envs.map((e) => (
        <>
          <a href={`${props.path}?env=${e}`} aria-current={e === props.env ? 'page' : undefined}>
            {envLabel[e]}
          </a>{' '}
        </>
      ))}
    </p>
  );
}

function CredentialTable(props: {
  creds: ReturnType<typeof credentialView>[];
  env: Environment;
  canWrite: boolean;
}) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Name / user</th>
            <th scope="col">Key</th>
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {props.creds.map((c) => (
            <tr>
              <td>
                {c.name}
                <br />
                <code>{c.public_id}</code>
              </td>
              <td>…{c.secret_last4}</td>
              <td>
                <Status value={c.status} /> {c.expires_at ? <When at={c.expires_at} /> : null}
              </td>
              <td>
                {props.canWrite && (c.status === 'active' || c.status === 'expiring') ? (
                  <div class="row">
                    {c.status === 'active' ? (
                      <form
                        data-api={`POST /v1/credentials/${c.id}/rotate`}
                        data-env={props.env}
                        data-then="secret"
                        data-secret-target={`rot-${c.id}`}
                      >
                        <button type="submit" class="secondary">
                          Rotate
                        </button>
                      </form>
                    ) : null}
                    <form
                      data-api={`POST /v1/credentials/${c.id}/revoke`}
                      data-env={props.env}
                      data-confirm="Revoke now? It stops working at once."
                    >
                      <button type="submit" class="danger">
                        Revoke
                      </button>
                    </form>
                  </div>
                ) : null}
                <div id={`rot-${c.id}`}></div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Mail text with this Payloom's own links made clickable (relative, so they work on any host). */
function MailBody(props: { text: string; baseUrl: string }) {
  const parts = props.text.split(/(https?:\/\/\S+)/g);
  return (
    <p class="mail-body">
      {parts.map((part) =>
        part.startsWith(`${props.baseUrl}/`) ? (
          <a href={part.slice(props.baseUrl.length)}>{part.slice(props.baseUrl.length).split('?')[0]}</a>
        ) : (
          part
        ),
      )}
    </p>
  );
}

export function SignInForm(props: { kind: 'merchant' | 'operator'; home: string }) {
  return (
    <div class="auth-box card">
      <form data-api="POST /v1/auth/signin" data-then={`redirect:${props.home}`} data-use-next="" novalidate>
        <input type="hidden" name="kind" value={props.kind} />
        <Field name="email" label="Email" type="email" required autocomplete="username" />
        <Field name="password" label="Password" type="password" required autocomplete="current-password" />
        <div data-totp="" hidden>
          <Field name="totp" label="Authenticator code" autocomplete="one-time-code" />
        </div>
        <FormError />
        <button type="submit">Sign in</button>
      </form>
    </div>
  );
}

export function ResetPage(props: { kind: 'merchant' | 'operator'; token: string | undefined }) {
  const app = props.kind === 'merchant' ? 'portal' : 'console';
  return (
    <Layout title={props.token ? 'Choose a new password' : 'Reset your password'} app={app}>
      <div class="auth-box card">
        {props.token ? (
          <form data-api="POST /v1/auth/password-reset/confirm" data-then={`redirect:/${app}/signin`}>
            <input type="hidden" name="token" value={props.token} />
            <Field
              name="password"
              label="New password"
              type="password"
              required
              autocomplete="new-password"
              hint="At least 10 characters."
            />
            <FormError />
            <button type="submit">Save password</button>
          </form>
        ) : (
          <form
            data-api="POST /v1/auth/password-reset"
            data-then="message:If the address has an account, a link is on its way."
          >
            <input type="hidden" name="kind" value={props.kind} />
            <Field name="email" label="Email" type="email" required />
            <FormError />
            <button type="submit">Send reset link</button>
          </form>
        )}
      </div>
    </Layout>
  );
}

function NotFound(props: { signedIn: SignedIn }) {
  return (
    <Layout title="Not found" app="portal" signedIn={props.signedIn}>
      <Empty>
        There is nothing here. Go back to <a href="/portal/products">Products</a>.
      </Empty>
    </Layout>
  );
}
