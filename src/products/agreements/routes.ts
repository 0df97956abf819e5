import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { authenticateSecret } from '../../core/credentials/credentials.js';
import type { Environment } from '../../core/db/schema.js';
import { parseCurrency } from '../../core/money/money.js';
import type { RouteContext } from '../../http/app.js';
import { encryptAuth } from './callback.js';
import {
  amountOf,
  currencyOfCountry,
  dateOf,
  httpsUrl,
  isUuid,
  limits,
  objectBody,
  onlyFields,
  optionalBool,
  optionalInt,
  optionalString,
  parseLinks,
  parsePatch,
  requiredInt,
  requiredString,
  type Body,
} from './dialect.js';
import {
  errorBody,
  invalid,
  isMpError,
  MpError,
  notFound,
  refundErrorBody,
  serverErrorBody,
} from './errors.js';
import { attachmentPdf, parseAttachment } from './attachments.js';
import { agr, type AgreementStatus, type CallbackAuth, type ProviderRow } from './schema.js';
import * as svc from './service.js';
import { verifyAccessToken, type SigningKeys } from './tokens.js';
import {
  agreementView,
  merchantView,
  oneOffView,
  paymentRequestView,
  providerView,
  refundView,
} from './views.js';
import type { PayerWalletConnector } from '../../connectors/contracts/payer-wallet.js';

export interface AgreementsDeps {
  readonly ctx: RouteContext;
  readonly keys: SigningKeys;
  readonly issuer: string;
  readonly authKey: Buffer;
  readonly wallet: PayerWalletConnector;
}

interface Caller {
  merchantId: string;
  environment: Environment;
}

const callers = new WeakMap<FastifyRequest, Caller>();
const testClockHeader = 'payloom-test-clock';

export function correlationId(request: FastifyRequest): string {
  const header = request.headers.correlationid;
  return typeof header === 'string' && header.length > 0 && header.length <= 100 ? header : randomUUID();
}

export function landingLink(
  base: string,
  a: {
    id: string;
    links: { rel: string; href: string }[];
    country_code: string;
    mobile_phone_number: string | null;
  },
  oneOffId?: string,
): string {
  const url = new URL(`${base}/subscriptions/landing/`);
  url.searchParams.set('flow', 'agreement');
  url.searchParams.set('id', a.id);
  if (oneOffId) url.searchParams.set('oneOffPaymentId', oneOffId);
  const redirect = a.links.find((l) => l.rel === 'user-redirect')?.href;
  if (redirect) url.searchParams.set('redirectUrl', redirect);
  url.searchParams.set('countryCode', a.country_code);
  if (a.mobile_phone_number) url.searchParams.set('mobile', a.mobile_phone_number);
  return url.toString();
}

/** Every operation of the vendor spec under `/subscriptions/api/...` (vendor-apis.md §4.2). */
export function dialectRoutes(app: FastifyInstance, deps: AgreementsDeps): void {
  const { ctx } = deps;
  const db = ctx.database.db;
  const base = ctx.config.baseUrl;

  app.addContentTypeParser(
    ['application/json-patch+json', 'text/json', 'application/*+json'],
    { parseAs: 'string' },
    (_request, body, done) => {
      try {
        done(null, body === '' ? undefined : JSON.parse(body as string));
      } catch {
        done(invalid('body', 'is not valid JSON'), undefined);
      }
    },
  );

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('CorrelationId', correlationId(request));
    const caller = await authenticate(request, deps);
    if (!caller) return reply.code(401).header('www-authenticate', 'Bearer').send();
    callers.set(request, caller);
    request.principal = {
      kind: 'merchant',
      merchantId: caller.merchantId,
      environment: caller.environment,
      credentialId: 'agreements-oauth',
    };
  });

  app.setErrorHandler(async (error, request, reply) => {
    const id = String(reply.getHeader('CorrelationId') ?? correlationId(request));
    const refund = request.url.includes('/refunds');
    let mp: MpError | undefined = isMpError(error) ? error : undefined;
    const status = (error as { statusCode?: number }).statusCode;
    if (!mp && status !== undefined && status >= 400 && status < 500) {
      mp =
        status === 415
          ? new MpError('input', 'UnsupportedMediaType', 'Content-Type must be application/json')
          : new MpError('input', 'InvalidRequest', (error as Error).message);
    }
    if (mp) {
      if (mp.status === 404) return reply.code(404).send();
      return reply.code(mp.status).send(refund ? refundErrorBody(mp, id) : errorBody(mp, id));
    }
    request.log.error({ err: error }, 'agreements request failed');
    return reply.code(500).send(serverErrorBody(id, refund));
  });

  const caller = (request: FastifyRequest): Caller => {
    const c = callers.get(request);
    if (!c) throw new MpError('unauthorized', 'Unauthorized', 'Unauthorized');
    return c;
  };
  const provider = async (request: FastifyRequest): Promise<ProviderRow> => {
    const { providerid } = request.params as { providerid: string };
    if (!isUuid(providerid)) throw notFound();
    return svc.findProvider(db, caller(request), providerid.toLowerCase());
  };
  const uuidParam = (request: FastifyRequest, name: string): string => {
    const value = (request.params as Record<string, string>)[name];
    if (!isUuid(value)) throw notFound();
    return value.toLowerCase();
  };
  const testClock = async (request: FastifyRequest, p: ProviderRow): Promise<string | null> => {
    const header = request.headers[testClockHeader];
    if (typeof header !== 'string' || header === '') return null;
    if (p.environment !== 'sandbox') throw invalid(testClockHeader, 'test clocks exist only in the sandbox');
    const row = await db
      .selectFrom('test_clocks')
      .select('id')
      .where('id', '=', header)
      .where('merchant_id', '=', p.merchant_id)
      .executeTakeFirst();
    if (!row) throw invalid(testClockHeader, 'no such test clock');
    return row.id;
  };
  const noContent = (reply: FastifyReply) => reply.code(204).send();

  // 1
  app.get('/api/merchants/me', async (request) => {
    const c = caller(request);
    return merchantView(c.merchantId, await svc.listProviders(db, c));
  });
  // 2
  app.get('/api/providers/:providerid', async (request) => providerView(await provider(request)));
  // 3
  app.patch('/api/providers/:providerid', async (request, reply) => {
    const p = await provider(request);
    const [op] = parsePatch(request.body, ['/payment_status_callback_url']);
    const url = httpsUrl(op?.value, 'payment_status_callback_url', p.environment);
    await agr(db)
      .updateTable('agr_providers')
      .set({ payment_status_callback_url: url })
      .where('id', '=', p.id)
      .execute();
    return noContent(reply);
  });
  // 4-6
  const putAuth = (path: string, parse: (body: Body, environment: Environment) => CallbackAuth) =>
    app.put(`/api/providers/:providerid/auth/${path}`, async (request, reply) => {
      const p = await provider(request);
      const auth = parse(objectBody(request.body), p.environment);
      const visible = {
        scheme: auth.scheme,
        ...(auth.scheme === 'basic' ? { user_name: auth.user_name } : {}),
        ...(auth.scheme === 'oauth2' ? { key: auth.client_id, scope: auth.scope } : {}),
      };
      await agr(db)
        .updateTable('agr_providers')
        .set({ callback_auth: JSON.stringify({ ...visible, sealed: encryptAuth(deps.authKey, auth) }) })
        .where('id', '=', p.id)
        .execute();
      return noContent(reply);
    });
  putAuth('oauth2', (b, environment) => {
    onlyFields(b, ['client_id', 'client_secret', 'token_url', 'scope']);
    return {
      scheme: 'oauth2',
      client_id: requiredString(b, 'client_id', 200),
      client_secret: requiredString(b, 'client_secret', 500),
      token_url: httpsUrl(b.token_url, 'token_url', environment),
      scope: optionalString(b, 'scope', 500),
    };
  });
  putAuth('apikey', (b) => {
    onlyFields(b, ['api_key']);
    const key = requiredString(b, 'api_key', 1000);
    if (!/^[A-Za-z0-9\-._~+/ ]+=*$/.test(key) || key.trim() === '')
      throw invalid('api_key', 'must be a token68 value');
    return { scheme: 'apikey', api_key: key };
  });
  putAuth('basic', (b) => {
    onlyFields(b, ['user_name', 'password']);
    const user = requiredString(b, 'user_name', 200);
    if (user.includes(':')) throw invalid('user_name', 'must not contain ":"');
    return { scheme: 'basic', user_name: user, password: requiredString(b, 'password', 500) };
  });

  // 7
  app.post('/api/providers/:providerid/agreements', async (request, reply) => {
    const p = await provider(request);
    const input = parseCreateAgreement(objectBody(request.body), p.environment);
    const { agreement, oneOff } = await svc.createAgreement(db, p, {
      ...input,
      testClockId: await testClock(request, p),
    });
    return reply.code(201).send({
      id: agreement.id,
      ...(oneOff ? { one_off_payment_id: oneOff.id } : {}),
      links: [{ rel: 'mobile-pay', href: landingLink(base, agreement, oneOff?.id) }],
    });
  });
  // 8
  app.get('/api/providers/:providerid/agreements', async (request) => {
    const p = await provider(request);
    const q = request.query as Record<string, string | undefined>;
    const statuses: readonly string[] = ['Pending', 'Active', 'Accepted', 'Rejected', 'Expired', 'Canceled'];
    const status = q.status === 'Active' ? 'Accepted' : (q.status ?? null);
    if (status !== null && !statuses.includes(status))
      throw invalid('status', `must be one of ${statuses.join(', ')}`);
    if (q.pageNumber === undefined) throw invalid('pageNumber', 'is required');
    const pageNumber = Number(q.pageNumber);
    if (!Number.isInteger(pageNumber) || pageNumber < 1)
      throw invalid('pageNumber', 'must be an integer from 1');
    const pageSize = q.pageSize === undefined ? 10 : Number(q.pageSize);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > limits.pageSizeMax) {
      throw invalid('pageSize', `must be an integer between 1 and ${limits.pageSizeMax}`);
    }
    const rows = await svc.listAgreements(db, p, {
      status: status as AgreementStatus | null,
      pageSize,
      pageNumber,
    });
    return [{ page_size: pageSize, agreements: rows.map((a) => agreementView(a, landingLink(base, a))) }];
  });
  // 9
  app.get('/api/providers/:providerid/agreements/:agreementid', async (request) => {
    const p = await provider(request);
    const a = await svc.findAgreement(db, p, uuidParam(request, 'agreementid'));
    return agreementView(a, landingLink(base, a));
  });
  // 10
  app.patch('/api/providers/:providerid/agreements/:agreementid', async (request, reply) => {
    const p = await provider(request);
    const id = uuidParam(request, 'agreementid');
    const current = await svc.findAgreement(db, p, id);
    const ops = parsePatch(request.body, svc.agreementPatchPaths);
    const changes: Parameters<typeof svc.patchAgreement>[3] = {};
    const links: Record<string, string> = {};
    for (const { path, value } of ops) {
      const b: Body = { [path.slice(1)]: value };
      switch (path) {
        case '/amount':
          changes.amountMinor = amountOf(value, parseCurrency(current.currency), 'amount', {
            allowZero: true,
          });
          break;
        case '/plan':
          changes.plan = requiredString(b, 'plan', limits.planMax);
          break;
        case '/description':
          changes.description = optionalString(b, 'description', limits.descriptionMax);
          break;
        case '/external_id':
          changes.externalId = optionalString(b, 'external_id', limits.externalIdMax);
          break;
        case '/next_payment_date':
          changes.nextPaymentDate = value === null ? null : dateOf(value, 'next_payment_date');
          break;
        case '/frequency':
          changes.frequency = frequencyOf(value);
          break;
        case '/disable_notification_management': {
          const flag = optionalBool(b, 'disable_notification_management');
          if (flag === null) throw invalid('disable_notification_management', 'is required');
          changes.disableNotificationManagement = flag;
          break;
        }
        default:
          links[path.slice(1)] = httpsUrl(value, path.slice(1), p.environment);
      }
    }
    changes.links = links;
    await svc.patchAgreement(db, p, id, changes);
    return noContent(reply);
  });
  // 11
  app.delete('/api/providers/:providerid/agreements/:agreementid', async (request, reply) => {
    const p = await provider(request);
    await svc.cancelAgreementByMerchant(db, p, uuidParam(request, 'agreementid'));
    return noContent(reply);
  });

  // 12
  app.post('/api/providers/:providerid/paymentrequests', async (request, reply) => {
    const p = await provider(request);
    const body = request.body;
    if (!Array.isArray(body)) throw invalid('body', 'must be an array of payment requests');
    if (body.length === 0) throw invalid('body', 'must contain at least one payment request');
    if (body.length > limits.paymentRequestsPerBatchMax) {
      throw new MpError(
        'precondition',
        'TooManyPayments',
        `body: at most ${limits.paymentRequestsPerBatchMax} payment requests per call`,
      );
    }
    const accepted: { input: svc.NewPaymentRequest; amountMinor: bigint }[] = [];
    const rejected: { external_id: string | null; error_description: string }[] = [];
    for (const [index, raw] of body.entries()) {
      const externalId =
        typeof raw === 'object' && raw !== null && typeof (raw as Body).external_id === 'string'
          ? ((raw as Body).external_id as string)
          : null;
      try {
        accepted.push(parsePaymentRequest(raw, index));
      } catch (error) {
        if (!isMpError(error)) throw error;
        rejected.push({ external_id: externalId, error_description: error.message });
      }
    }
    const pending = await svc.submitPaymentRequests(db, p, accepted, await testClock(request, p));
    return reply.code(202).send({
      pending_payments: pending.map((r) => ({ payment_id: r.id, external_id: r.externalId })),
      rejected_payments: rejected,
    });
  });
  // 13
  app.get('/api/providers/:providerid/agreements/:agreementid/paymentrequests', async (request) => {
    const p = await provider(request);
    const id = uuidParam(request, 'agreementid');
    await svc.findAgreement(db, p, id);
    return (await svc.listPaymentRequests(db, p, id)).map(paymentRequestView);
  });
  // 14
  app.get(
    '/api/providers/:providerid/agreements/:agreementid/paymentrequests/:paymentid',
    async (request) => {
      const p = await provider(request);
      return paymentRequestView(
        await svc.findPaymentRequest(
          db,
          p,
          uuidParam(request, 'agreementid'),
          uuidParam(request, 'paymentid'),
        ),
      );
    },
  );
  // 15
  app.patch(
    '/api/providers/:providerid/agreements/:agreementid/paymentrequests/:paymentid',
    async (request, reply) => {
      const p = await provider(request);
      const agreementId = uuidParam(request, 'agreementid');
      const paymentId = uuidParam(request, 'paymentid');
      const current = await svc.findPaymentRequest(db, p, agreementId, paymentId);
      const [op] = parsePatch(request.body, ['/amount']);
      const amountMinor = amountOf(op?.value, parseCurrency(current.currency ?? 'DKK'), 'amount');
      await svc.decreasePaymentAmount(db, p, agreementId, paymentId, amountMinor);
      return noContent(reply);
    },
  );
  // 16
  app.delete(
    '/api/providers/:providerid/agreements/:agreementid/paymentrequests/:paymentid',
    async (request, reply) => {
      const p = await provider(request);
      await svc.declinePaymentRequest(
        db,
        p,
        uuidParam(request, 'agreementid'),
        uuidParam(request, 'paymentid'),
      );
      return noContent(reply);
    },
  );

  // 17
  app.post('/api/providers/:providerid/agreements/:agreementid/oneoffpayments', async (request, reply) => {
    const p = await provider(request);
    const agreementId = uuidParam(request, 'agreementid');
    const agreement = await svc.findAgreement(db, p, agreementId);
    const b = objectBody(request.body);
    onlyFields(b, [
      'amount',
      'external_id',
      'description',
      'links',
      'auto_reserve',
      'expiration_timeout_minutes',
    ]);
    const input = {
      amountMinor: amountOf(b.amount, parseCurrency(agreement.currency), 'amount'),
      externalId: requiredString(b, 'external_id', limits.externalIdMax),
      description: requiredString(b, 'description', limits.descriptionMax),
      links:
        b.links === undefined || b.links === null
          ? []
          : parseLinks(b.links, ['user-redirect'], ['user-redirect'], p.environment),
      autoReserve: optionalBool(b, 'auto_reserve') ?? false,
      expirationTimeoutMinutes:
        optionalInt(
          b,
          'expiration_timeout_minutes',
          limits.expirationMinutesMin,
          limits.expirationMinutesMax,
        ) ?? limits.oneOffExpirationDefault,
    };
    const oneOff = await svc.requestOneOff(db, deps.wallet, p, agreementId, input);
    const redirect = input.links[0] ? { ...agreement, links: input.links } : agreement;
    return reply
      .code(202)
      .send({ id: oneOff.id, links: [{ rel: 'mobile-pay', href: landingLink(base, redirect, oneOff.id) }] });
  });
  // 18
  app.get('/api/providers/:providerid/agreements/:agreementid/oneoffpayments', async (request) => {
    const p = await provider(request);
    const id = uuidParam(request, 'agreementid');
    await svc.findAgreement(db, p, id);
    return (await svc.listOneOffs(db, p, id)).map(oneOffView);
  });
  // 19
  app.get('/api/providers/:providerid/agreements/:agreementid/oneoffpayments/:paymentid', async (request) => {
    const p = await provider(request);
    return oneOffView(
      await svc.findOneOff(db, p, uuidParam(request, 'agreementid'), uuidParam(request, 'paymentid')),
    );
  });
  // 20
  app.delete(
    '/api/providers/:providerid/agreements/:agreementid/oneoffpayments/:paymentid',
    async (request, reply) => {
      const p = await provider(request);
      await svc.cancelOneOff(db, p, uuidParam(request, 'agreementid'), uuidParam(request, 'paymentid'));
      return noContent(reply);
    },
  );
  // 21
  app.post(
    '/api/providers/:providerid/agreements/:agreementid/oneoffpayments/:paymentid/capture',
    async (request, reply) => {
      const p = await provider(request);
      await svc.captureOneOff(db, p, uuidParam(request, 'agreementid'), uuidParam(request, 'paymentid'));
      return noContent(reply);
    },
  );

  // 22-25 attachments
  const attachmentPayment = async (request: FastifyRequest) => {
    const p = await provider(request);
    const paymentId = uuidParam(request, 'paymentid');
    const { rows } = await sql<{ provider_id: string; merchant_id: string }>`
      SELECT provider_id::text, merchant_id FROM agr_one_offs WHERE id = ${paymentId}
      UNION ALL SELECT provider_id::text, merchant_id FROM agr_payment_requests WHERE id = ${paymentId}`.execute(
      db,
    );
    const owner = rows[0];
    if (!owner) throw notFound();
    if (owner.provider_id !== p.id)
      throw new MpError('input', 'Forbidden', 'The payment does not belong to this provider.');
    return { p, paymentId };
  };
  app.get('/api/providers/:providerid/payments/:paymentid/attachment', async (request) => {
    const { paymentId } = await attachmentPayment(request);
    const row = await agr(db)
      .selectFrom('agr_attachments')
      .select('body')
      .where('payment_id', '=', paymentId)
      .executeTakeFirst();
    if (!row) throw notFound();
    return row.body;
  });
  app.put('/api/providers/:providerid/payments/:paymentid/attachment', async (request, reply) => {
    const { p, paymentId } = await attachmentPayment(request);
    const body = parseAttachment(request.body, p.environment);
    await agr(db)
      .insertInto('agr_attachments')
      .values({
        payment_id: paymentId,
        merchant_id: p.merchant_id,
        provider_id: p.id,
        body: JSON.stringify(body),
      })
      .onConflict((oc) =>
        oc.column('payment_id').doUpdateSet({ body: JSON.stringify(body), updated_at: sql<Date>`now()` }),
      )
      .execute();
    return noContent(reply);
  });
  app.delete('/api/providers/:providerid/payments/:paymentid/attachment', async (request, reply) => {
    const { paymentId } = await attachmentPayment(request);
    const done = await agr(db)
      .deleteFrom('agr_attachments')
      .where('payment_id', '=', paymentId)
      .returning('payment_id')
      .executeTakeFirst();
    if (!done) throw notFound();
    return noContent(reply);
  });
  app.get('/api/providers/:providerid/payments/:paymentid/attachment/pdf', async (request, reply) => {
    const { p, paymentId } = await attachmentPayment(request);
    const row = await agr(db)
      .selectFrom('agr_attachments')
      .select('body')
      .where('payment_id', '=', paymentId)
      .executeTakeFirst();
    if (!row || row.body.generate_pdf !== true) throw notFound();
    const pdf = await attachmentPdf(p.name, paymentId, row.body);
    return reply.code(200).type('application/pdf').send(pdf);
  });

  // 26-27 refunds
  app.get(
    '/api/providers/:providerid/agreements/:agreementid/payments/:paymentid/refunds',
    async (request) => {
      const p = await provider(request);
      const source = await svc.refundSource(
        db,
        p,
        uuidParam(request, 'agreementid'),
        uuidParam(request, 'paymentid'),
      );
      return (await svc.listRefunds(db, p, source.id)).map(refundView);
    },
  );
  app.post(
    '/api/providers/:providerid/agreements/:agreementid/payments/:paymentid/refunds',
    async (request, reply) => {
      const p = await provider(request);
      const source = await svc.refundSource(
        db,
        p,
        uuidParam(request, 'agreementid'),
        uuidParam(request, 'paymentid'),
      );
      const b = objectBody(request.body);
      onlyFields(b, ['amount', 'status_callback_url', 'external_id']);
      const amountMinor =
        b.amount === undefined || b.amount === null
          ? null
          : amountOf(b.amount, parseCurrency(source.currency ?? 'DKK'), 'amount');
      const url = httpsUrl(b.status_callback_url, 'status_callback_url', p.environment);
      const externalId = optionalString(b, 'external_id', limits.externalIdMax);
      const row = await svc.requestRefund(db, p, source, { amountMinor, statusCallbackUrl: url, externalId });
      return reply.code(202).send({
        id: row.id,
        amount: Number((Number(row.amount_minor) / 100).toFixed(2)),
        status_callback_url: row.status_callback_url,
        external_id: row.external_id,
      });
    },
  );
}

async function authenticate(request: FastifyRequest, deps: AgreementsDeps): Promise<Caller | undefined> {
  const clientId = request.headers['x-ibm-client-id'];
  const clientSecret = request.headers['x-ibm-client-secret'];
  const authorization = request.headers.authorization;
  if (typeof clientId !== 'string' || typeof clientSecret !== 'string' || typeof authorization !== 'string')
    return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!match?.[1]) return undefined;
  const [claims, app] = await Promise.all([
    verifyAccessToken(deps.keys, deps.issuer, match[1]),
    authenticateSecret(deps.ctx.database.db, 'agreements', clientSecret),
  ]);
  if (!claims || !app || app.publicId !== clientId || !app.merchantActive || !app.accessApproved)
    return undefined;
  if (app.environment !== claims.environment) return undefined;
  if (!claims.scope.split(' ').includes('subscriptions')) return undefined;
  return { merchantId: claims.merchantId, environment: claims.environment };
}

function frequencyOf(value: unknown): number {
  if (typeof value !== 'number' || !limits.frequencies.includes(value)) {
    throw invalid('frequency', `must be one of ${limits.frequencies.join(', ')}`);
  }
  return value;
}

export function parseCreateAgreement(
  b: Body,
  environment: Environment,
): Omit<svc.NewAgreement, 'testClockId'> {
  onlyFields(b, [
    'external_id',
    'amount',
    'currency',
    'description',
    'next_payment_date',
    'frequency',
    'links',
    'country_code',
    'plan',
    'expiration_timeout_minutes',
    'mobile_phone_number',
    'one_off_payment',
    'disable_notification_management',
    'notifications_on',
    'retention_period_hours',
  ]);
  const currencyText = requiredString(b, 'currency', 3);
  if (currencyText !== 'DKK' && currencyText !== 'EUR') throw invalid('currency', 'must be DKK or EUR');
  const country = requiredString(b, 'country_code', 2);
  if (!(country in currencyOfCountry)) throw invalid('country_code', 'must be DK or FI');
  if (currencyOfCountry[country] !== currencyText) {
    throw invalid(
      'currency',
      `${currencyText} is not the currency of ${country} (DK: DKK, FI: EUR)`,
      'CurrencyCountryMismatch',
    );
  }
  const currency = parseCurrency(currencyText);
  const plan = requiredString(b, 'plan', limits.planMax);
  const expiration = requiredInt(
    b,
    'expiration_timeout_minutes',
    limits.expirationMinutesMin,
    limits.expirationMinutesMax,
  );
  const links = parseLinks(
    b.links,
    ['user-redirect', 'success-callback', 'cancel-callback'],
    ['user-redirect', 'success-callback', 'cancel-callback', 'cancel-redirect'],
    environment,
  );
  const amountMinor =
    b.amount === undefined || b.amount === null
      ? null
      : amountOf(b.amount, currency, 'amount', { allowZero: true });
  const frequency = b.frequency === undefined || b.frequency === null ? 0 : frequencyOf(b.frequency);
  const phone = optionalString(b, 'mobile_phone_number', 20);
  if (phone !== null && !/^\+?\d{8,15}$/.test(phone))
    throw invalid('mobile_phone_number', 'must be digits like 4512345678');
  let oneOff: svc.NewAgreement['oneOff'] = null;
  if (b.one_off_payment !== undefined && b.one_off_payment !== null) {
    const o = objectBody(b.one_off_payment, 'one_off_payment');
    onlyFields(o, ['amount', 'external_id', 'description', 'expiration_timeout_minutes'], 'one_off_payment.');
    oneOff = {
      amountMinor: amountOf(o.amount, currency, 'one_off_payment.amount'),
      externalId: requiredString(o, 'external_id', limits.externalIdMax, 'one_off_payment.'),
      description:
        optionalString(o, 'description', limits.descriptionMax, 'one_off_payment.') ?? 'Initial charge',
      expirationTimeoutMinutes:
        optionalInt(
          o,
          'expiration_timeout_minutes',
          limits.expirationMinutesMin,
          limits.expirationMinutesMax,
          'one_off_payment.',
        ) ?? limits.oneOffExpirationDefault,
    };
  }
  return {
    externalId: optionalString(b, 'external_id', limits.externalIdMax),
    amountMinor,
    currency,
    countryCode: country,
    plan,
    description: optionalString(b, 'description', limits.descriptionMax),
    frequency,
    nextPaymentDate:
      b.next_payment_date === undefined || b.next_payment_date === null
        ? null
        : dateOf(b.next_payment_date, 'next_payment_date'),
    expirationTimeoutMinutes: expiration,
    mobilePhoneNumber: phone,
    retentionPeriodHours: optionalInt(b, 'retention_period_hours', 0, limits.retentionHoursMax) ?? 0,
    disableNotificationManagement: optionalBool(b, 'disable_notification_management') ?? false,
    notificationsOn: optionalBool(b, 'notifications_on') ?? true,
    links,
    oneOff,
  };
}

function parsePaymentRequest(
  raw: unknown,
  index: number,
): { input: svc.NewPaymentRequest; amountMinor: bigint } {
  const prefix = `[${index}].`;
  const b = objectBody(raw, `[${index}]`);
  onlyFields(
    b,
    [
      'agreement_id',
      'amount',
      'due_date',
      'next_payment_date',
      'external_id',
      'description',
      'grace_period_days',
    ],
    prefix,
  );
  if (!isUuid(b.agreement_id)) throw invalid(`${prefix}agreement_id`, 'must be a GUID');
  // The currency is the agreement's; both are two-decimal currencies, so DKK parses any of them.
  const amountMinor = amountOf(b.amount, parseCurrency('DKK'), `${prefix}amount`);
  if (b.due_date === undefined || b.due_date === null) throw invalid(`${prefix}due_date`, 'is required');
  return {
    amountMinor,
    input: {
      agreementId: b.agreement_id.toLowerCase(),
      amount: b.amount,
      dueDate: dateOf(b.due_date, `${prefix}due_date`),
      externalId: requiredString(b, 'external_id', limits.externalIdMax, prefix),
      description: requiredString(b, 'description', limits.descriptionMax, prefix),
      gracePeriodDays: optionalInt(b, 'grace_period_days', limits.graceDaysMin, limits.graceDaysMax, prefix),
    },
  };
}
