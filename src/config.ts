import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Secret } from './core/secrets/secrets.js';

/**
 * The only reader of process.env. Every setting is parsed and validated once here and documented in
 * README.md ("Settings"). An invalid value stops the program with a message naming the variable.
 */
export interface Config {
  /** PostgreSQL connection string; absent means embedded PGlite under `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** Public base URL merchants use; defaults to http://localhost:PORT. */
  readonly baseUrl: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly apiProcesses: number;
  readonly dbPoolMax: number;
  readonly bodyLimitBytes: number;
  readonly rateLimitSandboxPerSecond: number;
  readonly rateLimitProductionPerSecond: number;
  readonly idempotencyTtlHours: number;
  readonly credentialOverlapSeconds: number;
  readonly seedDemo: boolean;
  /** Lets webhooks reach loopback and private addresses: local development only. */
  readonly allowPrivateCallbacks: boolean;
  /** Gateway for production SMS; sandbox SMS always use the sandbox gateway. */
  readonly smsGateway: 'sandbox' | 'smpp';
  readonly smpp: { host: string; port: number; tls: boolean; systemId: string; password: Secret } | undefined;
  readonly smsSender: string;
  /** Mail gateway for sign-up, reset and invitation mail: `sandbox` keeps it in the outbox. */
  readonly mailGateway: 'sandbox' | 'smtp';
  readonly smtp:
    | { host: string; port: number; secure: boolean; user: string | undefined; password: Secret | undefined }
    | undefined;
  readonly mailFrom: string;
  readonly smsLimits: { perMsisdnPerDay: number; perPrefixPerDay: number; perMerchantPerDay: number };
  /** Master key for derived keys (PIN pepper, MSISDN encryption); unset: generated and kept in the database. */
  readonly secretKey: Secret | undefined;
  /** Card vault master key (wraps the data keys); unset: derived from the platform master key. */
  readonly vaultMasterKey: Secret | undefined;
  /** Carrier-billing PIN limits (operator settings; load tests on the sandbox raise them). */
  readonly pinLimits: {
    ttlSeconds: number;
    attemptsMax: number;
    perMsisdnPer10Minutes: number;
    perMsisdnPerDay: number;
    consecutiveFailuresMax: number;
    lockSeconds: number;
  };
}

export class ConfigError extends Error {}

type Env = Readonly<Record<string, string | undefined>>;

/** `portOverride` is `--port`; the default base URL follows it. */
export function loadConfig(env: Env = process.env, portOverride?: number): Config {
  const port = portOverride ?? integer(env, 'PORT', 8080, 0, 65535);
  const dataDir = path.resolve(env.PAYLOOM_DATA_DIR ?? '.payloom');
  const databaseUrl = nonEmpty(env.DATABASE_URL);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  }
  const config: Config = {
    databaseUrl,
    dataDir,
    host: nonEmpty(env.HOST) ?? '127.0.0.1',
    port,
    baseUrl: trimSlash(nonEmpty(env.PAYLOOM_BASE_URL) ?? `http://localhost:${port}`),
    logLevel: oneOf(
      env,
      'PAYLOOM_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      'info',
    ),
    apiProcesses: integer(
      env,
      'PAYLOOM_API_PROCESSES',
      databaseUrl ? Math.max(1, availableParallelism()) : 1,
      1,
      64,
    ),
    dbPoolMax: integer(env, 'PAYLOOM_DB_POOL_MAX', 10, 1, 500),
    bodyLimitBytes: integer(env, 'PAYLOOM_BODY_LIMIT_BYTES', 1_048_576, 1024, 104_857_600),
    rateLimitSandboxPerSecond: integer(env, 'PAYLOOM_RATE_LIMIT_SANDBOX_PER_SECOND', 25, 1, 1_000_000),
    rateLimitProductionPerSecond: integer(env, 'PAYLOOM_RATE_LIMIT_PRODUCTION_PER_SECOND', 100, 1, 1_000_000),
    idempotencyTtlHours: integer(env, 'PAYLOOM_IDEMPOTENCY_TTL_HOURS', 24, 24, 24 * 365),
    credentialOverlapSeconds: integer(env, 'PAYLOOM_CREDENTIAL_OVERLAP_SECONDS', 86_400, 0, 30 * 86_400),
    seedDemo: boolean(env, 'PAYLOOM_SEED_DEMO', true),
    allowPrivateCallbacks: boolean(env, 'PAYLOOM_ALLOW_PRIVATE_CALLBACKS', false),
    smsGateway: oneOf(env, 'PAYLOOM_SMS_GATEWAY', ['sandbox', 'smpp'], 'sandbox'),
    smpp: smppUrl(nonEmpty(env.PAYLOOM_SMPP_URL)),
    smsSender: nonEmpty(env.PAYLOOM_SMS_SENDER) ?? 'Payloom',
    mailGateway: oneOf(env, 'PAYLOOM_MAIL_GATEWAY', ['sandbox', 'smtp'], 'sandbox'),
    smtp: smtpUrl(nonEmpty(env.PAYLOOM_SMTP_URL)),
    mailFrom: nonEmpty(env.PAYLOOM_MAIL_FROM) ?? 'Payloom <no-reply@payloom.invalid>',
    secretKey: secretKey(nonEmpty(env.PAYLOOM_SECRET_KEY)),
    vaultMasterKey: vaultMasterKey(nonEmpty(env.PAYLOOM_VAULT_MASTER_KEY)),
    pinLimits: {
      ttlSeconds: integer(env, 'PAYLOOM_PIN_TTL_SECONDS', 300, 30, 3600),
      attemptsMax: integer(env, 'PAYLOOM_PIN_ATTEMPTS_MAX', 5, 1, 100),
      perMsisdnPer10Minutes: integer(env, 'PAYLOOM_PIN_PER_MSISDN_PER_10_MINUTES', 3, 1, 1000),
      perMsisdnPerDay: integer(env, 'PAYLOOM_PIN_PER_MSISDN_PER_DAY', 10, 1, 10_000),
      consecutiveFailuresMax: integer(env, 'PAYLOOM_PIN_FAILURES_BEFORE_LOCK', 20, 1, 10_000),
      lockSeconds: integer(env, 'PAYLOOM_PIN_LOCK_SECONDS', 1800, 1, 31 * 86_400),
    },
    smsLimits: {
      perMsisdnPerDay: integer(env, 'PAYLOOM_SMS_PER_MSISDN_PER_DAY', 10, 1, 1_000_000),
      perPrefixPerDay: integer(env, 'PAYLOOM_SMS_PER_PREFIX_PER_DAY', 10_000, 1, 100_000_000),
      perMerchantPerDay: integer(env, 'PAYLOOM_SMS_PER_MERCHANT_PER_DAY', 10_000, 1, 100_000_000),
    },
  };
  if (config.smsGateway === 'smpp' && !config.smpp) {
    throw new ConfigError(
      'PAYLOOM_SMS_GATEWAY=smpp needs PAYLOOM_SMPP_URL (smpp://system_id:password@host:port)',
    );
  }
  if (config.mailGateway === 'smtp' && !config.smtp) {
    throw new ConfigError(
      'PAYLOOM_MAIL_GATEWAY=smtp needs PAYLOOM_SMTP_URL (smtp://user:password@host:port)',
    );
  }
  if (config.smsSender.length > 11 && !/^\+?\d{1,16}$/.test(config.smsSender)) {
    throw new ConfigError(
      'PAYLOOM_SMS_SENDER must be at most 11 characters, or a number of at most 16 digits',
    );
  }
  if (databaseUrl === undefined && config.apiProcesses > 1) {
    throw new ConfigError(
      'PAYLOOM_API_PROCESSES > 1 needs DATABASE_URL: embedded PGlite is owned by one process',
    );
  }
  return config;
}

/** Test database URL (integration tests run on PostgreSQL too when it is set). */
export function testDatabaseUrl(env: Env = process.env): string | undefined {
  return nonEmpty(env.TEST_DATABASE_URL);
}

/** `smpp://system_id:password@host:port` (or `smpps://` for TLS); the password is kept wrapped. */
function smppUrl(raw: string | undefined): Config['smpp'] {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('PAYLOOM_SMPP_URL is not a URL (smpp://system_id:password@host:port)');
  }
  if (url.protocol !== 'smpp:' && url.protocol !== 'smpps:')
    throw new ConfigError('PAYLOOM_SMPP_URL must start with smpp:// or smpps://');
  if (!url.username || !url.hostname) throw new ConfigError('PAYLOOM_SMPP_URL needs a system_id and a host');
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 2775,
    tls: url.protocol === 'smpps:',
    systemId: decodeURIComponent(url.username),
    password: new Secret(decodeURIComponent(url.password)),
  };
}

/** `smtp://user:password@host:port` (STARTTLS when offered) or `smtps://` (implicit TLS). */
function smtpUrl(raw: string | undefined): Config['smtp'] {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('PAYLOOM_SMTP_URL is not a URL (smtp://user:password@host:port)');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new ConfigError('PAYLOOM_SMTP_URL must start with smtp:// or smtps://');
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    user: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? new Secret(decodeURIComponent(url.password)) : undefined,
  };
}

function secretKey(raw: string | undefined): Secret | undefined {
  if (raw === undefined) return undefined;
  if (raw.length < 32)
    throw new ConfigError('PAYLOOM_SECRET_KEY must be at least 32 characters (e.g. openssl rand -base64 32)');
  return new Secret(raw);
}

function vaultMasterKey(raw: string | undefined): Secret | undefined {
  if (raw === undefined) return undefined;
  if (raw.length < 32) {
    throw new ConfigError(
      'PAYLOOM_VAULT_MASTER_KEY must be at least 32 characters (e.g. openssl rand -base64 32)',
    );
  }
  return new Secret(raw);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = nonEmpty(env[name])?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}
