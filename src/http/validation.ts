import { Ajv, type ValidateFunction } from 'ajv';
import * as addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS with a default export; under NodeNext its callable is on `.default`.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = (addFormatsModule as unknown as { default: AddFormats }).default;

/**
 * Bodies are validated strictly: no type coercion, unknown fields are errors (not silently dropped).
 * Query strings and path parameters arrive as text, so they alone are coerced to the declared types.
 */
function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: false,
    coerceTypes: coerce,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
  });
  addFormats(ajv);
  return ajv;
}

const bodyAjv = makeAjv(false);
const textAjv = makeAjv(true);

/**
 * A write sent with no body at all is validated as `{}`: endpoints whose fields are all optional
 * (rotate, approve) accept it, and endpoints with required fields name the first missing one.
 */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  if (httpPart !== 'body') return textAjv.compile(schema as object);
  const validate = bodyAjv.compile(schema as object);
  const validateBody = (data: unknown) => {
    // Fastify passes a missing body as null.
    const missing = data === undefined || data === null;
    const value = missing ? {} : data;
    if (!validate(value)) return { error: errorOf(validate) };
    return missing ? { value } : true;
  };
  return validateBody;
};

function errorOf(validate: ValidateFunction): Error {
  return Object.assign(new Error('body does not match the schema'), {
    validation: validate.errors ?? [],
    validationContext: 'body',
    statusCode: 400,
  });
}
