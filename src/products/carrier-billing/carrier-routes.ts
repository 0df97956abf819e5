import { Type, type Static } from 'typebox';
import type { App, RouteContext } from '../../http/app.js';
import { runMutation } from '../../http/mutation.js';
import { PageQuery, pageEnvelope, pageOf, pageSizeDefault } from '../../http/pagination.js';
import { commonErrors, EnvironmentSchema, IdempotencyHeaders, IdParams } from '../../http/schemas.js';
import { amountMinorMax } from '../../core/money/money.js';
import {
  addPortedNumber,
  carrierConnectorIds,
  carrierNameLengthMax,
  carrierView,
  connectorConfigBytesMax,
  createCarrier,
  getCarrier,
  listCarriers,
  listPortedNumbers,
  numberRangeDigitsMax,
  numberRangesPerCarrierMax,
  pinLengthDefault,
  pinLengthMax,
  pinLengthMin,
  portedNumberView,
  removePortedNumber,
  updateCarrier,
  type UpdateCarrierInput,
} from './carriers.js';

const Timestamp = Type.String({ format: 'date-time' });
const LimitMinor = (description: string) =>
  Type.Integer({ minimum: 1, maximum: Number(amountMinorMax), description });
const MsisdnText = Type.String({
  minLength: 1,
  maxLength: 32,
  description: 'International digits, e.g. `447700900123` (a leading `+` or `00` is accepted).',
});

/** The writable fields; POST requires the first group, PATCH takes any of them. */
const fieldSchemas = {
  name: Type.String({ minLength: 1, maxLength: carrierNameLengthMax }),
  country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2, e.g. `GB`.' }),
  mcc: Type.String({ pattern: '^[0-9]{3}$', description: 'Mobile country code, e.g. `234`.' }),
  mnc: Type.String({ pattern: '^[0-9]{2,3}$', description: 'Mobile network code, e.g. `10`.' }),
  currency: Type.String({ pattern: '^[A-Za-z]{3}$', description: 'ISO 4217 code the carrier bills in.' }),
  connector_id: Type.Enum([...carrierConnectorIds], { description: 'The carrier connector that bills.' }),
  per_transaction_max_minor: LimitMinor('Largest single charge, in minor units.'),
  daily_max_minor: LimitMinor('Most one MSISDN may be charged per UTC day, across merchants.'),
  monthly_max_minor: LimitMinor('Most one MSISDN may be charged per calendar month (UTC), across merchants.'),
  number_ranges: Type.Array(Type.String({ pattern: `^[1-9][0-9]{0,${numberRangeDigitsMax - 1}}$` }), {
    maxItems: numberRangesPerCarrierMax,
    description:
      "Prefixes of international digits this network's numbers start with; the longest match wins. " +
      "Each lies inside the country's calling code.",
  }),
  refunds_supported: Type.Boolean(),
  partial_refunds_supported: Type.Boolean({ description: 'Needs `refunds_supported`.' }),
  confirmation_sms_required: Type.Boolean({
    description: 'The payment-confirmation SMS after billing is mandatory on this network.',
  }),
  pin_length: Type.Integer({ minimum: pinLengthMin, maximum: pinLengthMax }),
  connector_config: Type.Object(
    {},
    {
      additionalProperties: true,
      maxProperties: 100,
      description: `The connector's settings (at most ${connectorConfigBytesMax} bytes as JSON).`,
    },
  ),
  enabled: Type.Boolean({
    description: 'A disabled carrier is never detected; its numbers find no carrier.',
  }),
};

const CreateBody = Type.Object(
  {
    environment: EnvironmentSchema,
    name: fieldSchemas.name,
    country: fieldSchemas.country,
    mcc: fieldSchemas.mcc,
    mnc: fieldSchemas.mnc,
    currency: fieldSchemas.currency,
    connector_id: fieldSchemas.connector_id,
    per_transaction_max_minor: fieldSchemas.per_transaction_max_minor,
    daily_max_minor: fieldSchemas.daily_max_minor,
    monthly_max_minor: fieldSchemas.monthly_max_minor,
    number_ranges: Type.Optional(fieldSchemas.number_ranges),
    refunds_supported: Type.Optional(fieldSchemas.refunds_supported),
    partial_refunds_supported: Type.Optional(fieldSchemas.partial_refunds_supported),
    confirmation_sms_required: Type.Optional(fieldSchemas.confirmation_sms_required),
    pin_length: Type.Optional(fieldSchemas.pin_length),
    connector_config: Type.Optional(fieldSchemas.connector_config),
    enabled: Type.Optional(fieldSchemas.enabled),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(fieldSchemas.name),
    country: Type.Optional(fieldSchemas.country),
    mcc: Type.Optional(fieldSchemas.mcc),
    mnc: Type.Optional(fieldSchemas.mnc),
    currency: Type.Optional(fieldSchemas.currency),
    connector_id: Type.Optional(fieldSchemas.connector_id),
    per_transaction_max_minor: Type.Optional(fieldSchemas.per_transaction_max_minor),
    daily_max_minor: Type.Optional(fieldSchemas.daily_max_minor),
    monthly_max_minor: Type.Optional(fieldSchemas.monthly_max_minor),
    number_ranges: Type.Optional(fieldSchemas.number_ranges),
    refunds_supported: Type.Optional(fieldSchemas.refunds_supported),
    partial_refunds_supported: Type.Optional(fieldSchemas.partial_refunds_supported),
    confirmation_sms_required: Type.Optional(fieldSchemas.confirmation_sms_required),
    pin_length: Type.Optional(fieldSchemas.pin_length),
    connector_config: Type.Optional(fieldSchemas.connector_config),
    enabled: Type.Optional(fieldSchemas.enabled),
  },
  { additionalProperties: false },
);

const Carrier = Type.Object({
  id: Type.String(),
  object: Type.Literal('carrier'),
  environment: EnvironmentSchema,
  name: Type.String(),
  country: Type.String(),
  mcc: Type.String(),
  mnc: Type.String(),
  number_ranges: Type.Array(Type.String()),
  currency: Type.String(),
  refunds_supported: Type.Boolean(),
  partial_refunds_supported: Type.Boolean(),
  confirmation_sms_required: Type.Boolean(),
  pin_length: Type.Integer(),
  per_transaction_max_minor: Type.Integer(),
  daily_max_minor: Type.Integer(),
  monthly_max_minor: Type.Integer(),
  connector_id: Type.String(),
  connector_config: Type.Object({}, { additionalProperties: true }),
  enabled: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const PortedNumber = Type.Object({
  msisdn: Type.String(),
  carrier_id: Type.String(),
  environment: EnvironmentSchema,
  created_at: Timestamp,
});

const ListQuery = Type.Object(
  {
    ...PageQuery.properties,
    environment: Type.Optional(EnvironmentSchema),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const PortedNumberParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }), msisdn: MsisdnText },
  { additionalProperties: false },
);

/**
 * Operator native API for carrier records and ported numbers (`/v1/carriers`). Carriers belong to an
 * environment, not to a merchant; only operator keys see or change them.
 */
export function carrierRoutes(app: App, ctx: RouteContext): void {
  const db = ctx.database.db;
  const config = { auth: 'operator' as const, auditTarget: 'id' };
  const security = [{ operatorKey: [] }];
  const tags = ['carriers'];

  app.get(
    '/v1/carriers',
    {
      config,
      schema: {
        tags,
        summary: 'List carriers, optionally of one environment.',
        security,
        querystring: ListQuery,
        response: { 200: pageEnvelope(Carrier), ...commonErrors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? pageSizeDefault;
      const rows = await listCarriers(db, {
        limit,
        ...(request.query.environment ? { environment: request.query.environment } : {}),
        ...(request.query.enabled !== undefined ? { enabled: request.query.enabled } : {}),
        ...(request.query.starting_after ? { startingAfter: request.query.starting_after } : {}),
      });
      return pageOf(rows, limit, carrierView, (row) => row.id);
    },
  );

  app.post(
    '/v1/carriers',
    {
      config,
      schema: {
        tags,
        summary: 'Create a carrier in an environment.',
        description:
          'Defaults: no number ranges, no refunds, confirmation SMS required, PIN length ' +
          `${pinLengthDefault}, empty connector config, enabled. MCC/MNC are unique per environment (409).`,
        security,
        headers: IdempotencyHeaders,
        body: CreateBody,
        response: { 201: Carrier, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const body = request.body;
        const row = await createCarrier(tx, {
          environment: body.environment,
          ...updateInput(body),
          name: body.name,
          country: body.country,
          mcc: body.mcc,
          mnc: body.mnc,
          currency: body.currency,
          connectorId: body.connector_id,
          perTransactionMaxMinor: BigInt(body.per_transaction_max_minor),
          dailyMaxMinor: BigInt(body.daily_max_minor),
          monthlyMaxMinor: BigInt(body.monthly_max_minor),
        });
        return { status: 201, body: carrierView(row), targetId: row.id };
      }),
  );

  app.get(
    '/v1/carriers/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Get a carrier.',
        security,
        params: IdParams,
        response: { 200: Carrier, ...commonErrors },
      },
    },
    async (request) => carrierView(await getCarrier(db, request.params.id)),
  );

  app.patch(
    '/v1/carriers/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Change a carrier: any field but id and environment (raise limits, disable, …).',
        security,
        headers: IdempotencyHeaders,
        params: IdParams,
        body: UpdateBody,
        response: { 200: Carrier, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => ({
        status: 200,
        body: carrierView(await updateCarrier(tx, request.params.id, updateInput(request.body))),
      })),
  );

  app.get(
    '/v1/carriers/:id/ported-numbers',
    {
      config,
      schema: {
        tags,
        summary: "Numbers ported to this carrier's network, by MSISDN.",
        security,
        params: IdParams,
        querystring: PageQuery,
        response: { 200: pageEnvelope(PortedNumber), ...commonErrors },
      },
    },
    async (request) => {
      const carrier = await getCarrier(db, request.params.id);
      const limit = request.query.limit ?? pageSizeDefault;
      const rows = await listPortedNumbers(db, carrier.id, {
        limit,
        ...(request.query.starting_after ? { startingAfter: request.query.starting_after } : {}),
      });
      return pageOf(rows, limit, portedNumberView, (row) => row.msisdn);
    },
  );

  app.post(
    '/v1/carriers/:id/ported-numbers',
    {
      config,
      schema: {
        tags,
        summary: "Record that a number now belongs to this carrier's network (moves it if ported elsewhere).",
        security,
        headers: IdempotencyHeaders,
        params: IdParams,
        body: Type.Object({ msisdn: MsisdnText }, { additionalProperties: false }),
        response: { 201: PortedNumber, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => ({
        status: 201,
        body: portedNumberView(await addPortedNumber(tx, request.params.id, request.body.msisdn)),
      })),
  );

  app.delete(
    '/v1/carriers/:id/ported-numbers/:msisdn',
    {
      config,
      schema: {
        tags,
        summary: 'The number is no longer ported to this carrier; its number range decides again.',
        security,
        headers: IdempotencyHeaders,
        params: PortedNumberParams,
        response: {
          200: Type.Object({ msisdn: Type.String(), carrier_id: Type.String(), deleted: Type.Literal(true) }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const row = await removePortedNumber(tx, request.params.id, request.params.msisdn);
        return {
          status: 200,
          body: { msisdn: row.msisdn, carrier_id: row.carrier_id, deleted: true as const },
        };
      }),
  );
}

/** The optional fields of a create or update body, as the service takes them. */
function updateInput(body: Static<typeof UpdateBody>): UpdateCarrierInput {
  const bigintOf = (value: number | undefined) => (value === undefined ? undefined : BigInt(value));
  return {
    name: body.name,
    country: body.country,
    mcc: body.mcc,
    mnc: body.mnc,
    currency: body.currency,
    connectorId: body.connector_id,
    perTransactionMaxMinor: bigintOf(body.per_transaction_max_minor),
    dailyMaxMinor: bigintOf(body.daily_max_minor),
    monthlyMaxMinor: bigintOf(body.monthly_max_minor),
    numberRanges: body.number_ranges,
    refundsSupported: body.refunds_supported,
    partialRefundsSupported: body.partial_refunds_supported,
    confirmationSmsRequired: body.confirmation_sms_required,
    pinLength: body.pin_length,
    // The schema admits only JSON objects here.
    connectorConfig: body.connector_config as Record<string, unknown> | undefined,
    enabled: body.enabled,
  };
}
