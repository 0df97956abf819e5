import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errorCodes, type ErrorCode, type FieldError } from '../core/errors/errors.js';

/** RFC 9457 problem details with Payloom's stable `code` and the `request_id` to quote to support. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  request_id: string;
  param?: string;
  errors?: readonly FieldError[];
}

export function problemFor(error: AppError, requestId: string): Problem {
  const problem: Problem = {
    type: `urn:payloom:error:${error.code}`,
    title: errorCodes[error.code].title,
    status: error.status,
    detail: error.message,
    code: error.code,
    request_id: requestId,
  };
  if (error.field !== undefined) problem.param = error.field;
  if (error.errors.length > 0) problem.errors = error.errors;
  return problem;
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value);
  return reply.code(error.status).type('application/problem+json').send(problemFor(error, request.id));
}

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
}

/** Turns Ajv's errors into `{field, message}` naming the field, e.g. `/name` or `/metadata/colour`. */
export function fieldErrors(validation: readonly AjvError[], context: string | undefined): FieldError[] {
  return validation.map((e) => {
    let field = e.instancePath ?? '';
    let message = e.message ?? 'is invalid';
    if (e.params?.missingProperty) {
      field = `${field}/${e.params.missingProperty}`;
      message = 'is required';
    } else if (e.params?.additionalProperty) {
      field = `${field}/${e.params.additionalProperty}`;
      message = 'is not a known field';
    } else if (e.keyword === 'enum' && e.params?.allowedValues) {
      message = `must be one of ${e.params.allowedValues.map(String).join(', ')}`;
    }
    const where = context && context !== 'body' ? `${context}:` : '';
    return { field: `${where}${field === '' ? '/' : field}`, message };
  });
}

/** Maps anything thrown in a request to an AppError; unknown errors become `internal_error`. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as Partial<FastifyError> & { validation?: AjvError[] };
  if (fastifyError.validation) {
    const errors = fieldErrors(fastifyError.validation, fastifyError.validationContext);
    const first = errors[0];
    return new AppError(
      'validation_failed',
      first ? `${first.field} ${first.message}.` : 'The request does not match the schema.',
      { errors, ...(first ? { field: first.field } : {}) },
    );
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('unsupported_media_type');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_json', 'The body is empty but Content-Type says JSON.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_json');
    default:
      break;
  }
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) return new AppError('invalid_json');
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    if (fastifyError.statusCode === 413) return new AppError('payload_too_large');
    if (fastifyError.statusCode === 415) return new AppError('unsupported_media_type');
    return new AppError('validation_failed', fastifyError.message ?? undefined);
  }
  return new AppError('internal_error');
}
