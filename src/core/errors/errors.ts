/**
 * The closed registry of error codes (STYLE.md §7). Every surface renders errors from these codes in
 * its own documented shape; the native API renders RFC 9457 problem+json with `code` and `request_id`.
 * Adding a code is an API change: add it here, with its HTTP status and a one-line title.
 */
export const errorCodes = {
  invalid_json: { status: 400, title: 'The request body is not valid JSON.' },
  validation_failed: { status: 400, title: 'The request does not match the schema.' },
  invalid_idempotency_key: {
    status: 400,
    title: 'Idempotency-Key must be 1-255 printable ASCII characters.',
  },
  invalid_amount: { status: 400, title: 'The amount is not a valid amount in that currency.' },
  invalid_currency: { status: 400, title: 'The currency is not a known ISO 4217 code.' },
  invalid_cursor: { status: 400, title: 'The pagination cursor is not valid.' },
  unauthenticated: { status: 401, title: 'A valid credential is required.' },
  forbidden: { status: 403, title: 'This credential may not perform this action.' },
  merchant_disabled: { status: 403, title: 'The merchant is disabled.' },
  access_not_approved: { status: 403, title: 'The merchant has no approved access to this product here.' },
  csrf_failed: { status: 403, title: 'A cookie-authenticated write needs the X-CSRF-Token header.' },
  second_factor_required: { status: 401, title: 'Enter the code from your authenticator app.' },
  account_locked: { status: 423, title: 'Too many failed sign-ins; the account is locked for a while.' },
  not_found: { status: 404, title: 'No such object.' },
  method_not_allowed: { status: 405, title: 'The method is not allowed on this path.' },
  conflict: { status: 409, title: 'The request conflicts with the current state of the object.' },
  idempotency_key_in_use: {
    status: 409,
    title: 'A request with this Idempotency-Key is still being processed.',
  },
  hold_already_resolved: { status: 409, title: 'The reservation was already captured, voided or expired.' },
  exceeds_held_amount: { status: 409, title: 'The amount is more than the reservation holds.' },
  authorization_expired: { status: 409, title: 'The reservation has expired.' },
  refund_exceeds_captured: { status: 409, title: 'Refunds would exceed the amount captured.' },
  payment_not_refundable: { status: 409, title: 'The payment has no captured money to refund.' },
  invalid_state_transition: {
    status: 409,
    title: 'The payment cannot make this change in its current state.',
  },
  payload_too_large: { status: 413, title: 'The request body is larger than the limit.' },
  unsupported_media_type: { status: 415, title: 'The request body must be application/json.' },
  idempotency_key_reused: {
    status: 422,
    title: 'This Idempotency-Key was used with a different request.',
  },
  rate_limited: { status: 429, title: 'Too many requests for this credential; retry later.' },
  internal_error: { status: 500, title: 'An unexpected error occurred; nothing was changed.' },
  not_ready: { status: 503, title: 'The service is not ready.' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCodes;

export interface FieldError {
  /** JSON pointer-ish path of the offending field, e.g. `/name` or `amount`. */
  readonly field: string;
  readonly message: string;
}

/** An expected, client-visible failure. Thrown at the boundary, rendered by each surface. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly errors: readonly FieldError[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    detail?: string,
    options: { field?: string; errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? errorCodes[code].title);
    this.name = 'AppError';
    this.code = code;
    this.status = errorCodes[code].status;
    this.field = options.field;
    this.errors = options.errors ?? (options.field ? [{ field: options.field, message: this.message }] : []);
    this.headers = options.headers ?? {};
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** A broken invariant: fails the request with 500 (nothing half-written), never the process. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}
