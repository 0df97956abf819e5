import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import type { SecretText } from '../../contracts/sms-gateway.js';

/**
 * SMPP gateway settings (README "SMPP config"). The password is not among them: it arrives separately as
 * a wrapped secret so it never sits in a plain settings object that could be logged or serialised.
 * Every timeout and window has a named default and a bound (STYLE.md §13).
 */
export const smppDefaults = {
  port: 2775,
  tls: false,
  systemType: '',
  deliveryReceipts: true,
  longMessages: 'udh',
  connectTimeoutMs: 10_000,
  bindTimeoutMs: 10_000,
  /** Default for a whole `send` (waiting to bind, every segment's `submit_sm_resp`). */
  submitTimeoutMs: 10_000,
  enquireLinkIntervalMs: 30_000,
  enquireLinkTimeoutMs: 10_000,
  unbindTimeoutMs: 2_000,
  reconnectDelayMinMs: 1_000,
  reconnectDelayMaxMs: 60_000,
  receiptHandlerTimeoutMs: 10_000,
  /** SMPP "window": requests awaiting a response at once on the connection. */
  inFlightMax: 10,
  /** Sends allowed to queue for a window slot or for the bind; beyond this, `not_sent` at once. */
  sendWaitersMax: 1_000,
} as const;

/** SMPP 3.4 §5.2: system_id is at most 16 octets, password 9, system_type 13, each with its NUL. */
const SYSTEM_ID_LENGTH_MAX = 15;
const PASSWORD_LENGTH_MAX = 8;
const SYSTEM_TYPE_LENGTH_MAX = 12;
const TIMEOUT_MS_MAX = 600_000;

const milliseconds = (defaultMs: number) =>
  Type.Optional(Type.Integer({ minimum: 1, maximum: TIMEOUT_MS_MAX, default: defaultMs }));

export const SmppGatewaySettingsSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 253 }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535, default: smppDefaults.port })),
    /** SMPP over TLS (often port 3550); the SMSC's certificate is verified by Node's defaults. */
    tls: Type.Optional(Type.Boolean({ default: smppDefaults.tls })),
    systemId: Type.String({ minLength: 1, maxLength: SYSTEM_ID_LENGTH_MAX }),
    systemType: Type.Optional(
      Type.String({ maxLength: SYSTEM_TYPE_LENGTH_MAX, default: smppDefaults.systemType }),
    ),
    /**
     * Ask for delivery receipts (`registered_delivery` = 1). On: an accepted message is `pending` until
     * its receipt. Off (an SMSC without receipts): an accepted message is `succeeded`.
     */
    deliveryReceipts: Type.Optional(Type.Boolean({ default: smppDefaults.deliveryReceipts })),
    /**
     * How a message longer than one segment travels: `udh` (one `submit_sm` per segment with a
     * concatenation header; every SMSC supports it) or `message_payload` (one `submit_sm` with the
     * whole text in the `message_payload` TLV; one message id and one receipt, where the SMSC allows it).
     */
    longMessages: Type.Optional(
      Type.Enum(['udh', 'message_payload'], { default: smppDefaults.longMessages }),
    ),
    /** Override the source TON / NPI chosen from the sender id's shape (README "Addresses"). */
    sourceTon: Type.Optional(Type.Integer({ minimum: 0, maximum: 6 })),
    sourceNpi: Type.Optional(Type.Integer({ minimum: 0, maximum: 18 })),
    connectTimeoutMs: milliseconds(smppDefaults.connectTimeoutMs),
    bindTimeoutMs: milliseconds(smppDefaults.bindTimeoutMs),
    submitTimeoutMs: milliseconds(smppDefaults.submitTimeoutMs),
    enquireLinkIntervalMs: milliseconds(smppDefaults.enquireLinkIntervalMs),
    enquireLinkTimeoutMs: milliseconds(smppDefaults.enquireLinkTimeoutMs),
    unbindTimeoutMs: milliseconds(smppDefaults.unbindTimeoutMs),
    reconnectDelayMinMs: milliseconds(smppDefaults.reconnectDelayMinMs),
    reconnectDelayMaxMs: milliseconds(smppDefaults.reconnectDelayMaxMs),
    receiptHandlerTimeoutMs: milliseconds(smppDefaults.receiptHandlerTimeoutMs),
    inFlightMax: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000, default: smppDefaults.inFlightMax }),
    ),
    sendWaitersMax: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100_000, default: smppDefaults.sendWaitersMax }),
    ),
  },
  { additionalProperties: false },
);

export type SmppGatewaySettings = Static<typeof SmppGatewaySettingsSchema>;

/** Settings with every default applied, plus the wrapped password. */
export interface SmppGatewayConfig {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly systemId: string;
  readonly password: SecretText;
  readonly systemType: string;
  readonly deliveryReceipts: boolean;
  readonly longMessages: 'udh' | 'message_payload';
  readonly sourceTon: number | undefined;
  readonly sourceNpi: number | undefined;
  readonly connectTimeoutMs: number;
  readonly bindTimeoutMs: number;
  readonly submitTimeoutMs: number;
  readonly enquireLinkIntervalMs: number;
  readonly enquireLinkTimeoutMs: number;
  readonly unbindTimeoutMs: number;
  readonly reconnectDelayMinMs: number;
  readonly reconnectDelayMaxMs: number;
  readonly receiptHandlerTimeoutMs: number;
  readonly inFlightMax: number;
  readonly sendWaitersMax: number;
}

export class SmppConfigError extends Error {
  override readonly name = 'SmppConfigError';
}

/** Validates settings (from config.ts or a stored connector config) and applies the defaults. */
export function parseSmppGatewayConfig(settings: unknown, password: SecretText): SmppGatewayConfig {
  if (!Value.Check(SmppGatewaySettingsSchema, settings)) {
    const problems = [...Value.Errors(SmppGatewaySettingsSchema, settings)]
      .map((error) => `${error.instancePath || '/'} ${error.message}`)
      .join('; ');
    throw new SmppConfigError(`invalid SMPP gateway settings: ${problems}`);
  }
  // The message names the rule, never the value.
  if (password.reveal().length > PASSWORD_LENGTH_MAX) {
    throw new SmppConfigError(
      `invalid SMPP gateway settings: the password is longer than ${PASSWORD_LENGTH_MAX}`,
    );
  }
  const s = settings;
  const config: SmppGatewayConfig = {
    host: s.host,
    port: s.port ?? smppDefaults.port,
    tls: s.tls ?? smppDefaults.tls,
    systemId: s.systemId,
    password,
    systemType: s.systemType ?? smppDefaults.systemType,
    deliveryReceipts: s.deliveryReceipts ?? smppDefaults.deliveryReceipts,
    longMessages: s.longMessages ?? smppDefaults.longMessages,
    sourceTon: s.sourceTon,
    sourceNpi: s.sourceNpi,
    connectTimeoutMs: s.connectTimeoutMs ?? smppDefaults.connectTimeoutMs,
    bindTimeoutMs: s.bindTimeoutMs ?? smppDefaults.bindTimeoutMs,
    submitTimeoutMs: s.submitTimeoutMs ?? smppDefaults.submitTimeoutMs,
    enquireLinkIntervalMs: s.enquireLinkIntervalMs ?? smppDefaults.enquireLinkIntervalMs,
    enquireLinkTimeoutMs: s.enquireLinkTimeoutMs ?? smppDefaults.enquireLinkTimeoutMs,
    unbindTimeoutMs: s.unbindTimeoutMs ?? smppDefaults.unbindTimeoutMs,
    reconnectDelayMinMs: s.reconnectDelayMinMs ?? smppDefaults.reconnectDelayMinMs,
    reconnectDelayMaxMs: s.reconnectDelayMaxMs ?? smppDefaults.reconnectDelayMaxMs,
    receiptHandlerTimeoutMs: s.receiptHandlerTimeoutMs ?? smppDefaults.receiptHandlerTimeoutMs,
    inFlightMax: s.inFlightMax ?? smppDefaults.inFlightMax,
    sendWaitersMax: s.sendWaitersMax ?? smppDefaults.sendWaitersMax,
  };
  if (config.reconnectDelayMaxMs < config.reconnectDelayMinMs) {
    throw new SmppConfigError(
      'invalid SMPP gateway settings: reconnectDelayMaxMs is below reconnectDelayMinMs',
    );
  }
  return config;
}
