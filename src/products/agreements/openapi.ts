/**
 * Payloom's OpenAPI document for the MobilePay Subscriptions dialect (served at
 * `/subscriptions/openapi.json`): the vendor's 27 operations with their paths, status codes and
 * bodies, as this implementation answers them. test/agreements/contract.test.ts checks it against the
 * vendor's own spec, and that every operation listed here is routed.
 */
type Schema = Record<string, unknown>;

const str = (nullable = true): Schema => ({ type: 'string', ...(nullable ? { nullable: true } : {}) });
const uuid: Schema = { type: 'string', format: 'uuid' };
const num = (extra: Schema = {}): Schema => ({ type: 'number', format: 'double', ...extra });
const int = (extra: Schema = {}): Schema => ({ type: 'integer', format: 'int32', ...extra });
const bool: Schema = { type: 'boolean' };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
  additionalProperties: false,
});
const arr = (items: Schema): Schema => ({ type: 'array', items });
const link = obj({ rel: str(), href: str() });

const error = obj({
  error: str(),
  error_description: obj({
    message: str(),
    error_type: str(),
    correlation_id: str(),
    error_code: str(),
    localized_message: str(),
  }),
});
const refundError = obj({
  errorText: str(),
  errorDetails: obj({ message: str(), errorType: str(), correlationId: str(), errorCode: str() }),
});
const patchOps = arr(obj({ value: { nullable: true }, path: str(), op: str(), from: str() }));

const agreement = obj({
  id: uuid,
  date_created: str(),
  date_accepted: str(),
  date_canceled: str(),
  external_id: str(),
  amount: num({ nullable: true }),
  currency: str(),
  next_payment_date: str(),
  frequency: int(),
  plan: str(),
  description: str(),
  status: str(),
  country_code: str(),
  links: arr(link),
  expiration_timeout_minutes: int(),
});
const article = obj({
  article_number: str(),
  article_description: str(),
  quantity: num({ nullable: true }),
  unit: str(),
  price_per_unit: num({ nullable: true }),
  vat_rate: num({ nullable: true }),
  total_vat_amount: num({ nullable: true }),
  total_price_including_vat: num({ nullable: true }),
  total_article_amount: num({ nullable: true }),
});
const details: Record<string, Schema> = {
  document_title: str(),
  hide_payment_point_address: bool,
  consumer_name: str(),
  consumer_address_lines: arr(str()),
  consumer_phone_number: str(),
  alias: str(),
  payment_point_name: str(),
  payment_point_address_lines: arr(str()),
  merchant_cvr: str(),
  merchant_contact_name: str(),
  delivery_address_lines: arr(str()),
  delivery_date: str(),
  invoice_number: str(),
  merchant_order_id: str(),
  merchant_order_number: str(),
  buyer_id: str(),
  buyer_order_number: str(),
  issue_date: str(),
  due_date: str(),
  order_date: str(),
  payment_reference: str(),
  comment: str(),
  price_deduction: num({ nullable: true }),
  price_reduction: num({ nullable: true }),
  discount: num({ nullable: true }),
  price_discount: num({ nullable: true }),
  bonus: num({ nullable: true }),
  total_ex_vat: num({ nullable: true }),
  total_amount_ex_vat: num({ nullable: true }),
  total_vat_amount: num({ nullable: true }),
  total_amount: num(),
  articles: arr(article),
  country_code: int(),
};
const attachment = obj({
  external_attachment_url: str(),
  generate_pdf: bool,
  attachment_details: obj(details),
});

interface Op {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  request?: Schema;
  success: [number, Schema | null];
  errors: number[];
  refund?: boolean;
  binary?: boolean;
}

export const agreementsOperations: readonly Op[] = [
  {
    method: 'get',
    path: '/api/merchants/me',
    success: [
      200,
      obj({
        Id: uuid,
        SubscriptionProviders: arr(
          obj({
            SubscriptionProviderId: uuid,
            Name: str(),
            HomepageUrl: str(),
            CustomerServiceEmail: str(),
            SelfServicePortalUrl: str(),
            FaqUrl: str(),
            Status: str(),
            Address: str(),
            ZipCode: str(),
            City: str(),
          }),
        ),
      }),
    ],
    errors: [401, 404, 409, 500],
  },
  {
    method: 'get',
    path: '/api/providers/{providerid}',
    success: [
      200,
      obj({
        credentials: obj({ key: str(), password: str(), scheme: str(), scope: str() }),
        payment_status_callback_url: str(),
        name: str(),
        payment_source_account_id: { ...uuid, nullable: true },
        customer_service: str(),
        faq: str(),
        homepage: str(),
        portal: str(),
        external_account_number: str(),
        status: int({ enum: [0, 2, 3, 4] }),
        address: str(),
        zip_code: str(),
        city: str(),
      }),
    ],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'patch',
    path: '/api/providers/{providerid}',
    request: patchOps,
    success: [204, null],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'put',
    path: '/api/providers/{providerid}/auth/oauth2',
    request: obj({ client_id: str(false), client_secret: str(false), token_url: str(false), scope: str() }, [
      'client_id',
      'client_secret',
      'token_url',
    ]),
    success: [204, null],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'put',
    path: '/api/providers/{providerid}/auth/apikey',
    request: obj({ api_key: str(false) }, ['api_key']),
    success: [204, null],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'put',
    path: '/api/providers/{providerid}/auth/basic',
    request: obj({ user_name: str(false), password: str(false) }, ['password', 'user_name']),
    success: [204, null],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'post',
    path: '/api/providers/{providerid}/agreements',
    request: obj(
      {
        external_id: str(),
        amount: num({ nullable: true }),
        currency: str(false),
        description: str(),
        next_payment_date: str(),
        frequency: int({ nullable: true, enum: [0, 1, 2, 4, 12, 26, 52, 365] }),
        links: arr(link),
        country_code: str(false),
        plan: str(false),
        expiration_timeout_minutes: int({ minimum: 1, maximum: 181440 }),
        mobile_phone_number: str(),
        one_off_payment: obj(
          {
            amount: num({ minimum: 0.01 }),
            external_id: str(false),
            description: str(),
            expiration_timeout_minutes: int({ nullable: true }),
          },
          ['amount', 'external_id'],
        ),
        disable_notification_management: { ...bool, nullable: true },
        notifications_on: { ...bool, nullable: true },
        retention_period_hours: int({ minimum: 0, maximum: 24 }),
      },
      ['country_code', 'currency', 'expiration_timeout_minutes', 'links', 'plan'],
    ),
    success: [201, obj({ id: uuid, one_off_payment_id: { ...uuid, nullable: true }, links: arr(link) })],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'get',
    path: '/api/providers/{providerid}/agreements',
    success: [200, arr(obj({ page_size: int({ nullable: true }), agreements: arr(agreement) }))],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'get',
    path: '/api/providers/{providerid}/agreements/{agreementid}',
    success: [200, agreement],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'patch',
    path: '/api/providers/{providerid}/agreements/{agreementid}',
    request: patchOps,
    success: [204, null],
    errors: [400, 401, 404, 405, 409, 500],
  },
  {
    method: 'delete',
    path: '/api/providers/{providerid}/agreements/{agreementid}',
    success: [204, null],
    errors: [400, 401, 404, 405, 409, 412, 500],
  },
  {
    method: 'post',
    path: '/api/providers/{providerid}/paymentrequests',
    request: arr(
      obj(
        {
          agreement_id: uuid,
          amount: num({ minimum: 0.01 }),
          due_date: str(false),
          next_payment_date: str(),
          external_id: str(false),
          description: str(false),
          grace_period_days: int({ nullable: true, minimum: 1, maximum: 3 }),
        },
        ['agreement_id', 'amount', 'description', 'due_date', 'external_id'],
      ),
    ),
    success: [
      202,
      obj({
        pending_payments: arr(obj({ payment_id: uuid, external_id: str() })),
        rejected_payments: arr(obj({ external_id: str(), error_description: str() })),
      }),
    ],
    errors: [400, 401, 404, 409, 412, 500],
  },
];

const paymentRequest = obj({
  id: uuid,
  agreement_id: uuid,
  amount: num({ nullable: true }),
  due_date: str(false),
  status: str(),
  external_id: str(),
  external_agreement_id: str(),
  next_payment_date: str(),
  description: str(),
  payment_transaction_id: str(),
  grace_period_days: int(),
});
const oneOff = obj({
  id: uuid,
  agreement_id: uuid,
  currency: str(),
  amount: num(),
  description: str(),
  status: str(),
  external_id: str(),
  payment_transaction_id: str(),
  expiration_timeout_minutes: int(),
});
const base = '/api/providers/{providerid}/agreements/{agreementid}';

export const allOperations: readonly Op[] = [
  ...agreementsOperations,
  {
    method: 'get',
    path: `${base}/paymentrequests`,
    success: [200, arr(paymentRequest)],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'get',
    path: `${base}/paymentrequests/{paymentid}`,
    success: [200, paymentRequest],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'patch',
    path: `${base}/paymentrequests/{paymentid}`,
    request: patchOps,
    success: [204, null],
    errors: [400, 401, 404, 405, 409, 500],
  },
  {
    method: 'delete',
    path: `${base}/paymentrequests/{paymentid}`,
    success: [204, null],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'post',
    path: `${base}/oneoffpayments`,
    request: obj(
      {
        amount: num({ minimum: 0.01 }),
        external_id: str(false),
        description: str(false),
        links: arr(link),
        auto_reserve: bool,
        expiration_timeout_minutes: int({ nullable: true, minimum: 1, maximum: 181440 }),
      },
      ['amount', 'description', 'external_id'],
    ),
    success: [202, obj({ id: uuid, links: arr(link) })],
    errors: [400, 401, 404, 409, 412, 500],
  },
  {
    method: 'get',
    path: `${base}/oneoffpayments`,
    success: [200, arr(oneOff)],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'get',
    path: `${base}/oneoffpayments/{paymentid}`,
    success: [200, oneOff],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'delete',
    path: `${base}/oneoffpayments/{paymentid}`,
    success: [204, null],
    errors: [400, 401, 404, 405, 409, 500],
  },
  {
    method: 'post',
    path: `${base}/oneoffpayments/{paymentid}/capture`,
    success: [204, null],
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: 'get',
    path: '/api/providers/{providerid}/payments/{paymentid}/attachment',
    success: [200, attachment],
    errors: [400, 401, 403, 404, 409, 500],
  },
  {
    method: 'put',
    path: '/api/providers/{providerid}/payments/{paymentid}/attachment',
    request: attachment,
    success: [204, null],
    errors: [400, 401, 403, 404, 409, 500],
  },
  {
    method: 'delete',
    path: '/api/providers/{providerid}/payments/{paymentid}/attachment',
    success: [204, null],
    errors: [400, 401, 403, 404, 409, 500],
  },
  {
    method: 'get',
    path: '/api/providers/{providerid}/payments/{paymentid}/attachment/pdf',
    success: [200, null],
    errors: [400, 401, 403, 404, 409, 500],
    binary: true,
  },
  {
    method: 'get',
    path: `${base}/payments/{paymentid}/refunds`,
    success: [
      200,
      arr(
        obj({
          id: uuid,
          amount: num(),
          currency: str(),
          status: str(),
          externalId: str(),
          paymentTransactionId: str(),
        }),
      ),
    ],
    errors: [400, 401, 404, 409, 500],
    refund: true,
  },
  {
    method: 'post',
    path: `${base}/payments/{paymentid}/refunds`,
    request: obj({
      amount: num({ nullable: true, minimum: 0.01 }),
      status_callback_url: str(),
      external_id: str(),
    }),
    success: [
      202,
      obj({ id: uuid, amount: num({ nullable: true }), status_callback_url: str(), external_id: str() }),
    ],
    errors: [400, 401, 404, 409, 500],
    refund: true,
  },
];

function parametersOf(path: string) {
  return [
    ...[...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: uuid,
    })),
    { name: 'CorrelationId', in: 'header', schema: { type: 'string' } },
    { name: 'x-ibm-client-id', in: 'header', required: true, schema: { type: 'string' } },
    { name: 'x-ibm-client-secret', in: 'header', required: true, schema: { type: 'string' } },
  ];
}

export function agreementsOpenApi(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of allOperations) {
    const responses: Record<string, unknown> = {};
    const [status, body] = op.success;
    responses[String(status)] = {
      description: 'Success',
      ...(body
        ? { content: { 'application/json': { schema: body } } }
        : op.binary
          ? { content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } } }
          : {}),
    };
    for (const e of op.errors) {
      responses[String(e)] = {
        description: e === 404 ? 'Not Found (empty body)' : e === 401 ? 'Unauthorized (empty body)' : 'Error',
        ...(e === 404 || e === 401
          ? {}
          : { content: { 'application/json': { schema: op.refund ? refundError : error } } }),
      };
    }
    paths[op.path] ??= {};
    const entry = paths[op.path];
    if (entry) {
      entry[op.method] = {
        parameters:
          op.method === 'get' && op.path.endsWith('/agreements')
            ? [
                ...parametersOf(op.path),
                { name: 'status', in: 'query', schema: { type: 'string' } },
                { name: 'pageSize', in: 'query', schema: int() },
                { name: 'pageNumber', in: 'query', required: true, schema: int() },
              ]
            : parametersOf(op.path),
        ...(op.request ? { requestBody: { content: { 'application/json': { schema: op.request } } } } : {}),
        responses,
        security: [{ Bearer: ['subscriptions'] }],
      };
    }
  }
  return {
    openapi: '3.0.1',
    info: { title: 'Payloom: MobilePay Subscriptions dialect', version: '1.1' },
    servers: [{ url: serverUrl }],
    paths,
    components: { securitySchemes: { Bearer: { type: 'apiKey', name: 'Authorization', in: 'header' } } },
  };
}
