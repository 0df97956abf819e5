import { Type } from 'typebox';
import { products } from '../../core/access/access.js';
import { AppError } from '../../core/errors/errors.js';
import { eventView, getEvent, listEvents } from '../../core/events/events.js';
import { balances, listLedgerTransactions } from '../../core/ledger/ledger.js';
import { paymentStatuses } from '../../core/payments/machine.js';
import { findPayment, listPayments, paymentTimeline } from '../../core/payments/repo.js';
import { paymentView } from '../../core/payments/service.js';
import type { App, RouteContext } from '../app.js';
import { PageQuery, pageEnvelope, pageOf, pageSizeDefault } from '../pagination.js';
import { merchantOf } from '../principal.js';
import { commonErrors, IdParams } from '../schemas.js';

const Timestamp = Type.String({ format: 'date-time' });
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const Payment = Type.Object({
  id: Type.String(),
  object: Type.Enum(['payment', 'refund']),
  product: Type.Enum([...products]),
  kind: Type.Enum(['sale', 'authorization', 'refund']),
  status: Type.Enum([...paymentStatuses]),
  amount_minor: Type.Integer({ description: 'Integer minor units of `currency`.' }),
  currency: Type.String(),
  captured_minor: Type.Integer(),
  refunded_minor: Type.Integer(),
  payer_ref: Type.String(),
  connector_id: Type.String(),
  connector_ref: NullableString,
  raw_code: NullableString,
  raw_message: NullableString,
  parent_payment_id: NullableString,
  reference: NullableString,
  description: NullableString,
  test_clock_id: NullableString,
  expires_at: Type.Union([Timestamp, Type.Null()]),
  metadata: Type.Object({}, { additionalProperties: true }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const Transition = Type.Object({
  seq: Type.Integer(),
  from_status: NullableString,
  to_status: Type.String(),
  event: Type.String(),
  amount_minor: Type.Union([Type.Integer(), Type.Null()]),
  raw_code: NullableString,
  at: Timestamp,
});

const Event = Type.Object({
  id: Type.String(),
  type: Type.String(),
  object_id: Type.String(),
  environment: Type.String(),
  created_at: Timestamp,
  data: Type.Object({}, { additionalProperties: true }),
});

const Balance = Type.Object({
  currency: Type.String(),
  available_minor: Type.String({ description: 'Owed to the merchant (decimal string of minor units).' }),
  held_minor: Type.String({ description: 'Open reservations.' }),
  receivable_minor: Type.String({ description: 'Owed to Payloom by connectors.' }),
  accounts: Type.Array(
    Type.Object({ role: Type.String(), debits_minor: Type.String(), credits_minor: Type.String() }),
  ),
});

const LedgerTransaction = Type.Object({
  id: Type.String(),
  payment_id: NullableString,
  kind: Type.String(),
  created_at: Timestamp,
  entries: Type.Array(
    Type.Object({
      role: Type.String(),
      currency: Type.String(),
      debit_minor: Type.String(),
      credit_minor: Type.String(),
    }),
  ),
});

/** Payments, balances, ledger transactions and events, for the merchant key's environment. */
export function paymentRoutes(app: App, ctx: RouteContext): void {
  const db = ctx.database.db;
  const config = { auth: 'merchant' as const };
  const security = [{ merchantKey: [] }];

  app.get(
    '/v1/payments',
    {
      config,
      schema: {
        tags: ['payments'],
        summary: 'Payments of every product, newest first; filter by product, status and creation time.',
        security,
        querystring: Type.Object(
          {
            ...PageQuery.properties,
            product: Type.Optional(Type.Enum([...products])),
            status: Type.Optional(Type.Enum([...paymentStatuses])),
            created_gte: Type.Optional(Timestamp),
            created_lt: Type.Optional(Timestamp),
          },
          { additionalProperties: false },
        ),
        response: { 200: pageEnvelope(Payment), ...commonErrors },
      },
    },
    async (request) => {
      const principal = merchantOf(request.principal);
      const q = request.query;
      const limit = q.limit ?? pageSizeDefault;
      const rows = await listPayments(db, {
        merchantId: principal.merchantId,
        environment: principal.environment,
        limit,
        ...(q.starting_after ? { startingAfter: q.starting_after } : {}),
        ...(q.product ? { product: q.product } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.created_gte ? { createdFrom: new Date(q.created_gte) } : {}),
        ...(q.created_lt ? { createdTo: new Date(q.created_lt) } : {}),
      });
      return pageOf(rows, limit, paymentView, (r) => r.id);
    },
  );

  app.get(
    '/v1/payments/:id',
    {
      config,
      schema: {
        tags: ['payments'],
        summary: 'A payment with the timeline of its state changes.',
        security,
        params: IdParams,
        response: {
          200: Type.Object({ ...Payment.properties, timeline: Type.Array(Transition) }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const principal = merchantOf(request.principal);
      const row = await findPayment(db, principal, request.params.id);
      if (!row) throw new AppError('not_found', `No payment ${request.params.id}.`);
      const timeline = await paymentTimeline(db, row.merchant_id, row.id);
      return {
        ...paymentView(row),
        timeline: timeline.map((s) => ({
          seq: s.seq,
          from_status: s.from_status,
          to_status: s.to_status,
          event: s.event,
          amount_minor: s.amount_minor === null ? null : Number(s.amount_minor),
          raw_code: s.raw_code,
          at: s.at.toISOString(),
        })),
      };
    },
  );

  app.get(
    '/v1/balances',
    {
      config,
      schema: {
        tags: ['ledger'],
        summary: 'Balances per currency, read from the ledger.',
        security,
        response: { 200: Type.Object({ data: Type.Array(Balance) }), ...commonErrors },
      },
    },
    async (request) => {
      const principal = merchantOf(request.principal);
      return { data: await balances(db, principal.merchantId, principal.environment) };
    },
  );

  app.get(
    '/v1/ledger/transactions',
    {
      config,
      schema: {
        tags: ['ledger'],
        summary: 'Ledger transactions with their entries, newest first.',
        security,
        querystring: Type.Object(
          { ...PageQuery.properties, payment_id: Type.Optional(Type.String({ maxLength: 64 })) },
          { additionalProperties: false },
        ),
        response: { 200: pageEnvelope(LedgerTransaction), ...commonErrors },
      },
    },
    async (request) => {
      const principal = merchantOf(request.principal);
      const limit = request.query.limit ?? pageSizeDefault;
      const rows = await listLedgerTransactions(db, {
        merchantId: principal.merchantId,
        environment: principal.environment,
        limit,
        ...(request.query.starting_after ? { startingAfter: request.query.starting_after } : {}),
        ...(request.query.payment_id ? { paymentId: request.query.payment_id } : {}),
      });
      return pageOf(
        rows,
        limit,
        (r) => r,
        (r) => r.id,
      );
    },
  );

  app.get(
    '/v1/events',
    {
      config,
      schema: {
        tags: ['events'],
        summary: 'Events (every state change), newest first.',
        security,
        querystring: Type.Object(
          { ...PageQuery.properties, type: Type.Optional(Type.String({ maxLength: 100 })) },
          { additionalProperties: false },
        ),
        response: { 200: pageEnvelope(Event), ...commonErrors },
      },
    },
    async (request) => {
      const principal = merchantOf(request.principal);
      const limit = request.query.limit ?? pageSizeDefault;
      const rows = await listEvents(db, {
        merchantId: principal.merchantId,
        environment: principal.environment,
        limit,
        ...(request.query.starting_after ? { startingAfter: request.query.starting_after } : {}),
        ...(request.query.type ? { type: request.query.type } : {}),
      });
      return pageOf(rows, limit, eventView, (r) => r.id);
    },
  );

  app.get(
    '/v1/events/:id',
    {
      config,
      schema: {
        tags: ['events'],
        summary: 'One event.',
        security,
        params: IdParams,
        response: { 200: Event, ...commonErrors },
      },
    },
    async (request) => {
      const principal = merchantOf(request.principal);
      const row = await getEvent(db, principal, request.params.id);
      if (!row) throw new AppError('not_found', `No event ${request.params.id}.`);
      return eventView(row);
    },
  );
}
