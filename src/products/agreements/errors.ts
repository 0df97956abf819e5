/**
 * The MobilePay Subscriptions error shapes (vendor-apis.md §4.2): most endpoints answer
 * `{error, error_description: {message, error_type, correlation_id, error_code}}`; the refund endpoints
 * answer `{errorText, errorDetails: {message, errorType, correlationId, errorCode}}`; 404 and 401 have an
 * empty body. Every code is listed in README.md.
 */
export type MpErrorKind = 'input' | 'precondition' | 'domain' | 'method' | 'not_found' | 'unauthorized';

const kinds: Readonly<Record<MpErrorKind, { status: number; error: string; type: string }>> = {
  input: { status: 400, error: 'BadRequest', type: 'InputError' },
  precondition: { status: 412, error: 'PreconditionFailed', type: 'PreconditionError' },
  domain: { status: 409, error: 'Conflict', type: 'DomainError' },
  method: { status: 405, error: 'MethodNotAllowed', type: 'PreconditionError' },
  not_found: { status: 404, error: 'NotFound', type: 'InputError' },
  unauthorized: { status: 401, error: 'Unauthorized', type: 'AuthenticationError' },
};

export class MpError extends Error {
  readonly status: number;
  readonly error: string;
  readonly errorType: string;
  constructor(
    readonly kind: MpErrorKind,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'MpError';
    const k = kinds[kind];
    this.status = k.status;
    this.error = k.error;
    this.errorType = k.type;
  }
}

export function isMpError(error: unknown): error is MpError {
  return error instanceof MpError;
}

export const invalid = (field: string, message: string, code = 'InvalidInput'): MpError =>
  new MpError('input', code, `${field}: ${message}`, field);

export const notFound = (): MpError => new MpError('not_found', 'NotFound', 'Not found');

export function errorBody(error: MpError, correlationId: string) {
  return {
    error: error.error,
    error_description: {
      message: error.message,
      error_type: error.errorType,
      correlation_id: correlationId,
      error_code: error.code,
    },
  };
}

export function refundErrorBody(error: MpError, correlationId: string) {
  return {
    errorText: error.error,
    errorDetails: {
      message: error.message,
      errorType: error.errorType,
      correlationId,
      errorCode: error.code,
    },
  };
}

export function serverErrorBody(correlationId: string, refund: boolean) {
  const message = 'An unexpected error occurred; nothing was changed.';
  return refund
    ? {
        errorText: 'InternalServerError',
        errorDetails: { message, errorType: 'ServerError', correlationId, errorCode: 'ServerError' },
      }
    : {
        error: 'InternalServerError',
        error_description: {
          message,
          error_type: 'ServerError',
          correlation_id: correlationId,
          error_code: 'ServerError',
        },
      };
}
