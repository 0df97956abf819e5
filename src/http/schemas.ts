import { Type } from 'typebox';
import { dialects } from '../core/credentials/credentials.js';
import { products } from '../core/access/access.js';
import { errorCodes } from '../core/errors/errors.js';

/** Shared schemas of the native API; OpenAPI is generated from the same objects. */
export const EnvironmentSchema = Type.Enum(['sandbox', 'production']);
export const DialectSchema = Type.Enum([...dialects]);
export const ProductSchema = Type.Enum([...products]);
const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const IdParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

export const Merchant = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: Type.Enum(['active', 'disabled']),
  is_demo: Type.Boolean(),
  created_at: Timestamp,
  disabled_at: NullableTimestamp,
});

export const Credential = Type.Object({
  id: Type.String(),
  merchant_id: Type.String(),
  environment: EnvironmentSchema,
  dialect: DialectSchema,
  name: Type.String(),
  public_id: Type.String({ description: 'The non-secret part: key prefix, user name or client id.' }),
  secret_last4: Type.String(),
  status: Type.Enum(['active', 'expiring', 'expired', 'revoked']),
  created_at: Timestamp,
  expires_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
  replaced_by: NullableString,
});

export const IssuedCredential = Type.Object({
  ...Credential.properties,
  secret: Type.String({ description: 'Shown once, here; Payloom keeps only a hash.' }),
  username: Type.Optional(Type.String({ description: 'Dialects with a user name (carrier billing: `u`).' })),
  password: Type.Optional(
    Type.String({ description: 'Dialects with a password (carrier billing: `p`); shown once.' }),
  ),
});

export const AccessRequest = Type.Object({
  id: Type.String(),
  merchant_id: Type.String(),
  environment: EnvironmentSchema,
  product: ProductSchema,
  name: Type.String(),
  status: Type.Enum(['pending', 'approved', 'rejected', 'revoked']),
  requested_at: Timestamp,
  decided_at: NullableTimestamp,
  decided_by: NullableString,
  decision_reason: NullableString,
});

export const AuditEntry = Type.Object({
  id: Type.String(),
  occurred_at: Timestamp,
  actor_type: Type.Enum(['operator', 'merchant', 'system']),
  actor_id: Type.String(),
  merchant_id: NullableString,
  environment: Type.Union([EnvironmentSchema, Type.Null()]),
  action: Type.String(),
  target_id: NullableString,
  request_id: Type.String(),
  outcome: Type.Enum(['success', 'failure']),
  status_code: Type.Integer(),
});

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.Enum(Object.keys(errorCodes)),
    request_id: Type.String(),
    param: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { description: 'RFC 9457 problem details (application/problem+json).' },
);

/** Error responses every authenticated route can give, for the OpenAPI document. */
export const commonErrors = {
  400: Problem,
  401: Problem,
  403: Problem,
  404: Problem,
  409: Problem,
  413: Problem,
  415: Problem,
  422: Problem,
  429: Problem,
  500: Problem,
};

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      description:
        '1-255 printable ASCII characters. Retrying with the same key replays the first response for at least ' +
        '24 hours; a different request with the same key is 422, a concurrent one 409.',
    }),
  ),
});
