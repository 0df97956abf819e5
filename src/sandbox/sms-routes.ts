import { Type } from 'typebox';
import { AppError } from '../core/errors/errors.js';
import { sandboxInbox, smsView } from '../core/sms/outbox.js';
import type { App, RouteContext } from '../http/app.js';
import { pageSizeMax } from '../http/pagination.js';
import { merchantOf } from '../http/principal.js';
import { commonErrors } from '../http/schemas.js';

const SmsMessage = Type.Object(
  {
    id: Type.String(),
    to: Type.String(),
    from: Type.String(),
    purpose: Type.String({ description: 'e.g. `pin`, `payment_confirmation`.' }),
    language: Type.String(),
    text: Type.String(),
    segments: Type.Integer(),
    status: Type.Enum(['queued', 'sending', 'sent', 'delivered', 'failed', 'unknown']),
    code: Type.Optional(
      Type.String({ description: 'For PIN messages: the PIN, so tests need not parse text.' }),
    ),
    created_at: Type.String({ format: 'date-time' }),
    sent_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    delivered_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { additionalProperties: true },
);

/** The sandbox phone's inbox: messages the sandbox "sent" (nothing leaves Payloom), newest first. */
export function sandboxSmsRoutes(app: App, ctx: RouteContext): void {
  app.get(
    '/v1/sandbox/sms',
    {
      config: { auth: 'merchant' },
      schema: {
        tags: ['sandbox'],
        summary: 'SMS the sandbox sent, newest first; filter by recipient MSISDN.',
        security: [{ merchantKey: [] }],
        querystring: Type.Object(
          {
            to: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{6,14}$' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageSizeMax, default: 20 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ data: Type.Array(SmsMessage) }), ...commonErrors },
      },
    },
    async (request) => {
      const principal = merchantOf(request.principal);
      if (principal.environment !== 'sandbox')
        throw new AppError('not_found', 'The SMS inbox exists only in the sandbox.');
      const rows = await sandboxInbox(ctx.database.db, {
        merchantId: principal.merchantId,
        limit: request.query.limit ?? 20,
        ...(request.query.to ? { to: request.query.to } : {}),
      });
      return { data: rows.map(smsView) };
    },
  );
}
