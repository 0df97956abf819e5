import type { FastifyReply, FastifyRequest } from 'fastify';
import { accessView, listAccess } from '../core/access/access.js';
import { auditView } from '../core/audit/audit.js';
import { verifyLedger } from '../core/ledger/verify.js';
import { getMerchant, listMerchants, merchantView } from '../core/merchants/merchants.js';
import { listUsers, userView } from '../core/users/users.js';
import type { App, RouteContext } from '../http/app.js';
import { pageSizeDefault } from '../http/pagination.js';
import { ChartSection } from '../portal/charts.js';
import { productPortalEntries } from '../products/index.js';
import { sessionCookie } from '../core/users/sessions.js';
import { AccountBody, ResetPage, SignInForm } from '../portal/pages.js';
import type { SignedIn } from '../portal/session-auth.js';
import { paymentStats, statsRange } from '../portal/stats.js';
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
  sendPage,
  Status,
  When,
} from '../portal/ui.js';
import {
  jobView,
  listAllDeliveries,
  listAllPayments,
  listAuditFiltered,
  listJobs,
  merchantUsersAndAccess,
  systemHealth,
} from './queries.js';

const hidden = { schema: { hide: true }, config: { auth: 'public' as const } };

function Table(props: { head: string[]; children?: unknown }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** The operator console at /console: every action posts to the native API with the session cookie. */
export function consolePages(app: App, ctx: RouteContext): void {
  const db = ctx.database.db;
  const page = (request: FastifyRequest, reply: FastifyReply): Promise<SignedIn | undefined> =>
    requireUser(request, reply, 'operator', ctx);
  const shell = (signedIn: SignedIn, title: string, current: string, body: unknown) => (
    <Layout title={title} app="console" current={current} signedIn={signedIn} csrf={csrfFor(ctx, signedIn)}>
      {body as never}
    </Layout>
  );

  app.get('/console/signin', hidden, async (_request, reply) =>
    sendPage(
      reply,
      <Layout title="Operator sign-in" app="console">
        <SignInForm kind="operator" home="/console" />
        <p class="auth-box">
          <a href="/console/reset">Forgot your password?</a>
        </p>
      </Layout>,
    ),
  );

  app.get<{ Querystring: { token?: string } }>('/console/reset', hidden, async (request, reply) =>
    sendPage(reply, <ResetPage kind="operator" token={request.query.token} />),
  );

  app.get('/console', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn) return reply;
    const health = await systemHealth(db);
    return sendPage(
      reply,
      shell(
        signedIn,
        'System health',
        '/console',
        <>
          <div class="kpis">
            <div class="kpi">
              <span>Database</span>
              <b>
                <Status value={health.database} />
              </b>
            </div>
            <div class="kpi">
              <span>Migrations applied</span>
              <b>
                {health.migrations_applied} of {ctx.migrations.length}
              </b>
            </div>
            <div class="kpi">
              <span>Jobs due</span>
              <b>{health.jobs.due}</b>
            </div>
            <div class="kpi">
              <span>Jobs queued</span>
              <b>{health.jobs.queued}</b>
            </div>
            <div class="kpi">
              <span>Jobs failed</span>
              <b>{health.jobs.failed}</b>
            </div>
            <div class="kpi">
              <span>Workers busy</span>
              <b>{health.workers_busy}</b>
            </div>
          </div>
          <p>
            <a href="/console/access-requests">{health.pending_access_requests} access request(s) waiting</a>
          </p>
        </>,
      ),
    );
  });

  app.get<{ Querystring: { status?: string; starting_after?: string } }>(
    '/console/access-requests',
    hidden,
    async (request, reply) => {
      const signedIn = await page(request, reply);
      if (!signedIn) return reply;
      const statuses = ['pending', 'approved', 'rejected', 'revoked'] as const;
      const status =
        request.query.status === 'all'
          ? undefined
          : (statuses.find((s) => s === request.query.status) ?? 'pending');
      const rows = await listAccess(db, {
        limit: pageSizeDefault,
        ...(status ? { status } : {}),
        ...(request.query.starting_after ? { startingAfter: request.query.starting_after } : {}),
      });
      const list = rows.slice(0, pageSizeDefault).map(accessView);
      const admin = signedIn.user.role === 'admin';
      return sendPage(
        reply,
        shell(
          signedIn,
          'Access requests',
          '/console/access-requests',
          <>
            <form method="get" action="/console/access-requests" class="filters">
              <div class="field">
                <label for="f-status">Status</label>
                <select id="f-status" name="status">
                  {[...statuses, 'all'].map((s) => (
                    <option value={s} selected={s === (status ?? 'all')}>
                      {s}
                    </option>
                  ))}
                </select>
              </div>
              <button type="submit">Filter</button>
            </form>
            {list.length === 0 ? (
              <Empty>
                No {status ?? ''} access requests. New production requests from merchants appear here.
              </Empty>
            ) : null}
            {list.map((a) => (
              <section class="card" data-access-id={a.id}>
                <h2>
                  {a.product} · {a.environment} · “{a.name}”
                </h2>
                <p>
                  Merchant <a href={`/console/merchants/${a.merchant_id}`}>{a.merchant_id}</a> · requested{' '}
                  <When at={a.requested_at} /> · <Status value={a.status} />
                  {a.decision_reason ? ` — ${a.decision_reason}` : ''}
                </p>
                {a.status === 'pending' && admin ? (
                  <div class="row">
                    <form data-api={`POST /v1/access-requests/${a.id}/approve`} data-then="reload">
                      <button type="submit" class="go">
                        Approve
                      </button>
                      <FormError />
                    </form>
                    <form class="row" data-api={`POST /v1/access-requests/${a.id}/reject`} data-then="reload">
                      <Field
                        name="reason"
                        id={`${a.id}-reason`}
                        label="Reason (shown to the merchant)"
                        maxlength={1000}
                      />
                      <button type="submit" class="danger">
                        Reject
                      </button>
                      <FormError />
                    </form>
                  </div>
                ) : null}
                {a.status === 'approved' && admin ? (
                  <form class="row" data-api={`POST /v1/access-requests/${a.id}/revoke`} data-then="reload">
                    <Field name="reason" id={`${a.id}-revoke`} label="Reason" maxlength={1000} />
                    <button type="submit" class="danger">
                      Revoke
                    </button>
                    <FormError />
                  </form>
                ) : null}
              </section>
            ))}
            <Pager
              path="/console/access-requests"
              query={pageQuery(request.query)}
              next={rows.length > pageSizeDefault ? (list.at(-1)?.id ?? null) : null}
            />
          </>,
        ),
      );
    },
  );

  app.get<{ Querystring: { status?: string; starting_after?: string } }>(
    '/console/merchants',
    hidden,
    async (request, reply) => {
      const signedIn = await page(request, reply);
      if (!signedIn) return reply;
      const status =
        request.query.status === 'active' || request.query.status === 'disabled'
          ? request.query.status
          : undefined;
      const rows = await listMerchants(db, {
        limit: pageSizeDefault,
        ...(status ? { status } : {}),
        ...(request.query.starting_after ? { startingAfter: request.query.starting_after } : {}),
      });
      const list = rows.slice(0, pageSizeDefault).map(merchantView);
      return sendPage(
        reply,
        shell(
          signedIn,
          'Merchants',
          '/console/merchants',
          <>
            {signedIn.user.role === 'admin' ? (
              <section class="card">
                <h2>Create a merchant</h2>
                <form data-api="POST /v1/merchants" data-then="show-json" data-secret-target="new-merchant">
                  <Field name="name" label="Name" required maxlength={200} />
                  <FormError />
                  <button type="submit">Create</button>
                </form>
                <div id="new-merchant"></div>
              </section>
            ) : null}
            <form method="get" action="/console/merchants" class="filters">
              <div class="field">
                <label for="f-mstatus">Status</label>
                <select id="f-mstatus" name="status">
                  <option value="">Any</option>
                  <option value="active" selected={status === 'active'}>
                    active
                  </option>
                  <option value="disabled" selected={status === 'disabled'}>
                    disabled
                  </option>
                </select>
              </div>
              <button type="submit">Filter</button>
            </form>
            {list.length === 0 ? <Empty>No merchants.</Empty> : null}
            <Table head={['Merchant', 'Name', 'Status', 'Created']}>
              {list.map((m) => (
                <tr>
                  <td>
                    <a href={`/console/merchants/${m.id}`}>{m.id}</a>
                  </td>
                  <td>{m.name}</td>
                  <td>
                    <Status value={m.status} />
                  </td>
                  <td>
                    <When at={m.created_at} />
                  </td>
                </tr>
              ))}
            </Table>
            <Pager
              path="/console/merchants"
              query={pageQuery(request.query)}
              next={rows.length > pageSizeDefault ? (list.at(-1)?.id ?? null) : null}
            />
          </>,
        ),
      );
    },
  );

  app.get<{ Params: { id: string } }>('/console/merchants/:id', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn) return reply;
    const merchant = await getMerchant(db, request.params.id).catch(() => undefined);
    if (!merchant)
      return sendPage(
        reply,
        shell(signedIn, 'Not found', '/console/merchants', <Empty>No such merchant.</Empty>),
        404,
      );
    const { users, access } = await merchantUsersAndAccess(db, merchant.id);
    const capabilities = productPortalEntries().flatMap((e) =>
      (e.console?.capabilities ?? []).map((c) => ({ ...c, product: e.title })),
    );
    const admin = signedIn.user.role === 'admin';
    return sendPage(
      reply,
      shell(
        signedIn,
        merchant.name,
        '/console/merchants',
        <>
          <p>
            <code>{merchant.id}</code> <Status value={merchant.status} />
          </p>
          {admin ? (
            <form
              data-api={`POST /v1/merchants/${merchant.id}/${merchant.status === 'active' ? 'disable' : 'enable'}`}
              data-then="reload"
              data-confirm={
                merchant.status === 'active'
                  ? 'Disable this merchant? Every credential stops at once.'
                  : 'Enable again?'
              }
            >
              <button type="submit" class={merchant.status === 'active' ? 'danger' : 'secondary'}>
                {merchant.status === 'active' ? 'Disable merchant' : 'Enable merchant'}
              </button>
              <FormError />
            </form>
          ) : null}
          <h2>Capabilities</h2>
          {capabilities.length === 0 ? <Empty>No product asks for per-merchant capabilities.</Empty> : null}
          {capabilities.map((c, i) => (
            <section class="card">
              <h3>
                {c.label} <span class="muted">({c.product})</span>
              </h3>
              <p>{c.description}</p>
              {admin ? (
                <form
                  class="row"
                  data-api={`${c.httpMethod} ${c.path.replace('{merchantId}', merchant.id)}`}
                  data-then="message:Saved."
                >
                  <div class="field">
                    <label for={`cap-${i}-env`}>Environment</label>
                    <select id={`cap-${i}-env`} name="environment">
                      <option value="sandbox">sandbox</option>
                      <option value="production">production</option>
                    </select>
                  </div>
                  <div class="field">
                    <label for={`cap-${i}-allowed`}>Allowed</label>
                    <select id={`cap-${i}-allowed`} name="allowed" data-type="boolean">
                      <option value="true">allowed</option>
                      <option value="false">not allowed</option>
                    </select>
                  </div>
                  <button type="submit">Save</button>
                  <FormError />
                </form>
              ) : null}
            </section>
          ))}
          <h2>Users</h2>
          {users.length === 0 ? <Empty>No portal users (API keys only).</Empty> : null}
          <Table head={['Email', 'Role', 'Verified', 'TOTP']}>
            {users.map((u) => (
              <tr>
                <td>{u.email}</td>
                <td>{u.role}</td>
                <td>{u.email_verified_at ? 'yes' : 'no'}</td>
                <td>{u.totp_enabled_at ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </Table>
          <h2>Subscriptions</h2>
          {access.length === 0 ? <Empty>No subscriptions.</Empty> : null}
          <Table head={['Product', 'Environment', 'Name', 'Status']}>
            {access.map((a) => (
              <tr>
                <td>{a.product}</td>
                <td>{a.environment}</td>
                <td>{a.name}</td>
                <td>
                  <Status value={a.status} />
                </td>
              </tr>
            ))}
          </Table>
        </>,
      ),
    );
  });

  app.get<{
    Querystring: { merchant_id?: string; status?: string; environment?: string; starting_after?: string };
  }>('/console/payments', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn) return reply;
    const q = request.query;
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
    const status = statuses.find((s) => s === q.status);
    const environment =
      q.environment === 'sandbox' || q.environment === 'production' ? q.environment : undefined;
    const rows = await listAllPayments(db, {
      limit: pageSizeDefault,
      ...(q.merchant_id ? { merchantId: q.merchant_id } : {}),
      ...(status ? { status } : {}),
      ...(environment ? { environment } : {}),
      ...(q.starting_after ? { startingAfter: q.starting_after } : {}),
    });
    const list = rows.slice(0, pageSizeDefault);
    return sendPage(
      reply,
      shell(
        signedIn,
        'Payments',
        '/console/payments',
        <>
          <form method="get" action="/console/payments" class="filters">
            <div class="field">
              <label for="f-merchant">Merchant id</label>
              <input id="f-merchant" name="merchant_id" value={q.merchant_id ?? ''} />
            </div>
            <div class="field">
              <label for="f-env">Environment</label>
              <select id="f-env" name="environment">
                <option value="">Any</option>
                <option value="sandbox" selected={environment === 'sandbox'}>
                  sandbox
                </option>
                <option value="production" selected={environment === 'production'}>
                  production
                </option>
              </select>
            </div>
            <div class="field">
              <label for="f-pstatus">Status</label>
              <select id="f-pstatus" name="status">
                <option value="">Any</option>
                {statuses.map((s) => (
                  <option value={s} selected={s === status}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit">Filter</button>
          </form>
          {list.length === 0 ? <Empty>No payments match.</Empty> : null}
          <Table head={['Payment', 'Merchant', 'Env', 'Product', 'Status', 'Amount', 'Created']}>
            {list.map((p) => (
              <tr>
                <td>
                  <code>{p.id}</code>
                </td>
                <td>
                  <a href={`/console/merchants/${p.merchant_id}`}>{p.merchant_id}</a>
                </td>
                <td>{p.environment}</td>
                <td>{p.product}</td>
                <td>
                  <Status value={p.status} />
                </td>
                <td class="num">{formatMoney(p.amount_minor, p.currency)}</td>
                <td>
                  <When at={p.created_at} />
                </td>
              </tr>
            ))}
          </Table>
          <Pager
            path="/console/payments"
            query={pageQuery(q)}
            next={rows.length > pageSizeDefault ? (list.at(-1)?.id ?? null) : null}
          />
        </>,
      ),
    );
  });

  app.get('/console/ledger', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn) return reply;
    const report = await verifyLedger(db);
    return sendPage(
      reply,
      shell(
        signedIn,
        'Ledger',
        '/console/ledger',
        <>
          <p>
            {report.transactions} transactions, {report.entries} entries, {report.accounts} accounts.{' '}
            {report.findings.length === 0 ? (
              <span class="ok" data-ledger-verified="">
                ledger verify: no differences
              </span>
            ) : (
              <span class="error">{report.findings.length} difference(s)</span>
            )}
          </p>
          <Table head={['Currency', 'Debits', 'Credits']}>
            {report.totals.map((t) => (
              <tr>
                <td>{t.currency}</td>
                <td class="num">{formatMoney(t.debits_minor, t.currency)}</td>
                <td class="num">{formatMoney(t.credits_minor, t.currency)}</td>
              </tr>
            ))}
          </Table>
          {report.findings.length > 0 ? (
            <ul>
              {report.findings.map((f) => (
                <li class="error">{f}</li>
              ))}
            </ul>
          ) : null}
          <p class="muted">
            The same report: <code>GET /v1/ledger/verify</code> or <code>payloom ledger verify</code>.
          </p>
        </>,
      ),
    );
  });

  app.get<{ Querystring: { status?: string } }>('/console/webhooks', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn) return reply;
    const rows = await listAllDeliveries(db, {
      limit: 50,
      ...(request.query.status ? { status: request.query.status } : {}),
    });
    return sendPage(
      reply,
      shell(
        signedIn,
        'Webhook deliveries',
        '/console/webhooks',
        <>
          <form method="get" action="/console/webhooks" class="filters">
            <div class="field">
              <label for="f-dstatus">Status</label>
              <select id="f-dstatus" name="status">
                <option value="">Any</option>
                {['pending', 'delivered', 'failed', 'cancelled'].map((s) => (
                  <option value={s} selected={s === request.query.status}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit">Filter</button>
          </form>
          {rows.length === 0 ? <Empty>No deliveries.</Empty> : null}
          <Table head={['Delivery', 'Merchant', 'Endpoint', 'Status', 'Attempts', 'Last answer']}>
            {rows.map((d) => (
              <tr>
                <td>
                  <code>{d.id}</code>
                </td>
                <td>{d.merchant_id}</td>
                <td>
                  <code>{d.url}</code>
                </td>
                <td>
                  <Status value={d.status} />
                </td>
                <td class="num">{d.attempts}</td>
                <td>{d.last_status_code ?? d.last_error ?? '—'}</td>
              </tr>
            ))}
          </Table>
        </>,
      ),
    );
  });

  app.get<{ Querystring: { state?: string; starting_after?: string } }>(
    '/console/jobs',
    hidden,
    async (request, reply) => {
      const signedIn = await page(request, reply);
      if (!signedIn) return reply;
      const state =
        request.query.state === 'queued' ||
        request.query.state === 'running' ||
        request.query.state === 'failed'
          ? request.query.state
          : undefined;
      const after = /^\d{1,19}$/.test(request.query.starting_after ?? '')
        ? BigInt(request.query.starting_after ?? '0')
        : undefined;
      const rows = await listJobs(db, {
        limit: pageSizeDefault,
        ...(state ? { state } : {}),
        ...(after !== undefined ? { before: after } : {}),
      });
      const list = rows.slice(0, pageSizeDefault).map(jobView);
      return sendPage(
        reply,
        shell(
          signedIn,
          'Jobs',
          '/console/jobs',
          <>
            <form method="get" action="/console/jobs" class="filters">
              <div class="field">
                <label for="f-state">State</label>
                <select id="f-state" name="state">
                  <option value="">Any</option>
                  {['queued', 'running', 'failed'].map((s) => (
                    <option value={s} selected={s === state}>
                      {s}
                    </option>
                  ))}
                </select>
              </div>
              <button type="submit">Filter</button>
            </form>
            {list.length === 0 ? <Empty>No jobs in this state.</Empty> : null}
            <Table head={['Job', 'Queue', 'State', 'Attempts', 'Run at', 'Last error', '']}>
              {list.map((j) => (
                <tr>
                  <td>{j.id}</td>
                  <td>{j.queue}</td>
                  <td>
                    <Status value={j.state} />
                  </td>
                  <td class="num">
                    {j.attempts}/{j.attempts_max}
                  </td>
                  <td>
                    <When at={j.run_at} />
                  </td>
                  <td>{j.last_error ?? ''}</td>
                  <td>
                    {j.state === 'failed' && signedIn.user.role === 'admin' ? (
                      <form data-api={`POST /v1/jobs/${j.id}/retry`} data-then="reload">
                        <button type="submit" class="secondary">
                          Retry
                        </button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </Table>
            <Pager
              path="/console/jobs"
              query={pageQuery(request.query)}
              next={rows.length > pageSizeDefault ? (list.at(-1)?.id ?? null) : null}
            />
          </>,
        ),
      );
    },
  );

  app.get<{
    Querystring: {
      merchant_id?: string;
      actor_type?: string;
      actor_id?: string;
      action?: string;
      starting_after?: string;
    };
  }>('/console/audit', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn) return reply;
    const q = request.query;
    const actorType =
      q.actor_type === 'operator' || q.actor_type === 'merchant' || q.actor_type === 'system'
        ? q.actor_type
        : undefined;
    const before = /^\d{1,19}$/.test(q.starting_after ?? '') ? BigInt(q.starting_after ?? '0') : undefined;
    const rows = await listAuditFiltered(db, {
      limit: pageSizeDefault,
      ...(q.merchant_id ? { merchantId: q.merchant_id } : {}),
      ...(actorType ? { actorType } : {}),
      ...(q.actor_id ? { actorId: q.actor_id } : {}),
      ...(q.action ? { action: q.action.slice(0, 100) } : {}),
      ...(before !== undefined ? { before } : {}),
    });
    const list = rows.slice(0, pageSizeDefault).map(auditView);
    return sendPage(
      reply,
      shell(
        signedIn,
        'Audit log',
        '/console/audit',
        <>
          <form method="get" action="/console/audit" class="filters">
            <div class="field">
              <label for="f-amerchant">Merchant id</label>
              <input id="f-amerchant" name="merchant_id" value={q.merchant_id ?? ''} />
            </div>
            <div class="field">
              <label for="f-atype">Actor type</label>
              <select id="f-atype" name="actor_type">
                <option value="">Any</option>
                {['operator', 'merchant', 'system'].map((s) => (
                  <option value={s} selected={s === actorType}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="f-aactor">Actor id</label>
              <input id="f-aactor" name="actor_id" value={q.actor_id ?? ''} />
            </div>
            <div class="field">
              <label for="f-aaction">Action contains</label>
              <input id="f-aaction" name="action" value={q.action ?? ''} />
            </div>
            <button type="submit">Filter</button>
          </form>
          {list.length === 0 ? <Empty>No audit entries match.</Empty> : null}
          <Table head={['When', 'Actor', 'Merchant', 'Action', 'Target', 'Status', 'Request id']}>
            {list.map((a) => (
              <tr>
                <td>
                  <When at={a.occurred_at} />
                </td>
                <td>
                  {a.actor_type} <code>{a.actor_id}</code>
                </td>
                <td>{a.merchant_id ?? '—'}</td>
                <td>
                  <code>{a.action}</code>
                </td>
                <td>{a.target_id ?? ''}</td>
                <td>{a.status_code}</td>
                <td>
                  <code>{a.request_id}</code>
                </td>
              </tr>
            ))}
          </Table>
          <Pager
            path="/console/audit"
            query={pageQuery(q)}
            next={rows.length > pageSizeDefault ? (list.at(-1)?.id ?? null) : null}
          />
        </>,
      ),
    );
  });

  app.get<{ Querystring: { from?: string; to?: string } }>(
    '/console/charts',
    hidden,
    async (request, reply) => {
      const signedIn = await page(request, reply);
      if (!signedIn) return reply;
      const day = /^\d{4}-\d{2}-\d{2}$/;
      const range = statsRange(
        ctx.clock.now(),
        day.test(request.query.from ?? '') ? request.query.from : undefined,
        day.test(request.query.to ?? '') ? request.query.to : undefined,
      );
      const stats = await paymentStats(db, {}, range);
      return sendPage(
        reply,
        shell(
          signedIn,
          'Charts (all merchants)',
          '/console/charts',
          <ChartSection stats={stats} action="/console/charts" apiPath="/v1/stats" />,
        ),
      );
    },
  );

  app.get('/console/connectors', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn) return reply;
    const sections = [];
    for (const entry of productPortalEntries()) {
      const connectors = entry.console?.connectors;
      if (!connectors) continue;
      // Read through the product's own operator API with this operator's session: same authorization.
      const listed = await app.inject({
        method: 'GET',
        url: `${connectors.path}?limit=100`,
        cookies: { [sessionCookie.operator]: signedIn.token },
      });
      const items =
        listed.statusCode === 200 ? (listed.json<{ data?: Record<string, unknown>[] }>().data ?? []) : [];
      sections.push({ entry, connectors, items, error: listed.statusCode === 200 ? null : listed.body });
    }
    const admin = signedIn.user.role === 'admin';
    const cell = (value: unknown) =>
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : '';
    return sendPage(
      reply,
      shell(
        signedIn,
        'Connectors',
        '/console/connectors',
        <>
          {sections.length === 0 ? <Empty>No product has connector configuration yet.</Empty> : null}
          {sections.map(({ entry, connectors, items, error }) => (
            <section>
              <h2>
                {connectors.title} <span class="muted">({entry.title})</span>
              </h2>
              {error ? <p class="error">{error}</p> : null}
              {items.length === 0 ? <Empty>None configured.</Empty> : null}
              {items.length > 0 ? (
                <Table head={[...connectors.columns, 'Edit']}>
                  {items.map((item) => {
                    const id = cell(item.id);
                    return (
                      <tr data-connector-id={id}>
                        {connectors.columns.map((c) => (
                          <td>{cell(item[c])}</td>
                        ))}
                        <td>
                          {admin ? (
                            <details>
                              <summary>Edit</summary>
                              <form data-api={`PATCH ${connectors.path}/${id}`} data-then="reload">
                                <div class="field">
                                  <label for={`edit-${id}`}>Changes (JSON, validated by the API)</label>
                                  <textarea id={`edit-${id}`} data-whole-body="" rows={4}>
                                    {JSON.stringify({ enabled: item.enabled ?? true }, null, 2)}
                                  </textarea>
                                </div>
                                <FormError />
                                <button type="submit">Save</button>
                              </form>
                            </details>
                          ) : null}
                        </td>
                      </tr>
                    );
                  })}
                </Table>
              ) : null}
              {admin ? (
                <section class="card">
                  <h3>Add</h3>
                  <form data-api={`POST ${connectors.path}`} data-then="reload">
                    <div class="field">
                      <label for={`create-${entry.product}`}>
                        New {connectors.title.toLowerCase()} (JSON, validated by the API)
                      </label>
                      <textarea id={`create-${entry.product}`} data-whole-body="" rows={12}>
                        {JSON.stringify(connectors.exampleCreate, null, 2)}
                      </textarea>
                    </div>
                    <FormError />
                    <button type="submit">Create</button>
                  </form>
                </section>
              ) : null}
            </section>
          ))}
        </>,
      ),
    );
  });

  app.get('/console/operators', hidden, async (request, reply) => {
    const signedIn = await page(request, reply);
    if (!signedIn) return reply;
    const users = (await listUsers(db, { kind: 'operator', limit: 100 })).map(userView);
    return sendPage(
      reply,
      shell(
        signedIn,
        'Operators',
        '/console/operators',
        <>
          <Table head={['Email', 'Role', 'TOTP', 'Created']}>
            {users.map((u) => (
              <tr>
                <td>{u.email}</td>
                <td>{u.role}</td>
                <td>{u.totp_enabled ? 'yes' : 'no'}</td>
                <td>
                  <When at={u.created_at} />
                </td>
              </tr>
            ))}
          </Table>
          {signedIn.user.role === 'admin' ? (
            <section class="card">
              <h2>Add an operator</h2>
              <form
                data-api="POST /v1/operator-users"
                data-then="show-json"
                data-secret-target="new-operator"
              >
                <Field name="email" label="Email" type="email" required />
                <div class="field">
                  <label for="f-orole">Role</label>
                  <select id="f-orole" name="role">
                    <option value="support">support — read-only</option>
                    <option value="admin">admin</option>
                  </select>
                </div>
                <FormError />
                <button type="submit">Create (one-time password shown once)</button>
              </form>
              <div id="new-operator"></div>
            </section>
          ) : null}
          <AccountBody signedIn={signedIn} />
        </>,
      ),
    );
  });
}
