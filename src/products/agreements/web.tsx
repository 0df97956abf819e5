import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { agr } from './schema.js';
import { isMpError } from './errors.js';
import { major } from './dialect.js';
import { LandingPage, pageCsp } from './pages.js';
import type { AgreementsDeps } from './routes.js';
import * as svc from './service.js';

const frequencyNames: Readonly<Record<number, string>> = {
  0: 'Flexible',
  1: 'Yearly',
  2: 'Every 6 months',
  4: 'Quarterly',
  12: 'Monthly',
  26: 'Every 2 weeks',
  52: 'Weekly',
  365: 'Daily',
};

/** hono/jsx elements render (escaped) through their own toString. */
function markup(node: unknown): string {
  return (node as { toString(): string }).toString();
}

function html(reply: FastifyReply, body: string, status = 200) {
  return reply
    .code(status)
    .header('content-security-policy', pageCsp)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>${body}`);
}

/**
 * The payer's landing page (`/subscriptions/landing/?flow=agreement&id=…[&oneOffPaymentId=…]`): what
 * they agree to, Accept / Reject as two plain POST forms, then 303 to the merchant's user-redirect.
 */
export async function landingRoutes(app: FastifyInstance, deps: AgreementsDeps): Promise<void> {
  const db = deps.ctx.database.db;
  await app.register(formbody);

  const load = async (query: Record<string, string | undefined>) => {
    const id = query.id;
    if (!id || !/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const agreement = await agr(db)
      .selectFrom('agr_agreements')
      .selectAll()
      .where('id', '=', id.toLowerCase())
      .executeTakeFirst();
    if (!agreement) return undefined;
    const provider = await agr(db)
      .selectFrom('agr_providers')
      .selectAll()
      .where('id', '=', agreement.provider_id)
      .executeTakeFirstOrThrow();
    const oneOffId = query.oneOffPaymentId;
    const oneOff =
      oneOffId && /^[0-9a-f-]{36}$/i.test(oneOffId)
        ? await agr(db)
            .selectFrom('agr_one_offs')
            .selectAll()
            .where('id', '=', oneOffId.toLowerCase())
            .where('agreement_id', '=', agreement.id)
            .executeTakeFirst()
        : await agr(db)
            .selectFrom('agr_one_offs')
            .selectAll()
            .where('agreement_id', '=', agreement.id)
            .where('with_agreement', '=', true)
            .executeTakeFirst();
    return { agreement, provider, oneOff };
  };

  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    message: string | null,
    status = 200,
  ) => {
    const query = request.query as Record<string, string | undefined>;
    const found = await load(query);
    if (!found) return html(reply, markup(<p>No such agreement.</p>), 404);
    const { agreement, provider, oneOff } = found;
    const pendingOneOff = oneOff && oneOff.status === 'Requested' ? oneOff : undefined;
    const action = `/subscriptions/landing/?${new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => typeof e[1] === 'string')).toString()}`;
    const page = (
      <LandingPage
        providerName={provider.name}
        plan={agreement.plan}
        description={agreement.description}
        amount={agreement.amount_minor === null ? null : major(agreement.amount_minor)}
        currency={agreement.currency}
        frequency={frequencyNames[agreement.frequency] ?? String(agreement.frequency)}
        oneOff={
          pendingOneOff
            ? { amount: major(pendingOneOff.amount_minor), description: pendingOneOff.description }
            : null
        }
        status={agreement.status === 'Accepted' && !pendingOneOff ? 'Accepted' : agreement.status}
        action={action}
        sandbox={agreement.environment === 'sandbox'}
        mobile={agreement.mobile_phone_number}
        message={message}
      />
    );
    return html(reply, markup(page), status);
  };

  app.get('/subscriptions/landing/', async (request, reply) => render(request, reply, null));
  app.post('/subscriptions/landing/', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const found = await load(query);
    if (!found) return render(request, reply, null);
    const form = (request.body ?? {}) as Record<string, string | undefined>;
    const decision = form.decision;
    const source =
      found.agreement.environment === 'sandbox' && form.source && /^\d{8,15}$/.test(form.source)
        ? form.source
        : (found.agreement.payer_ref ?? found.agreement.mobile_phone_number ?? '4520000000');
    try {
      const { agreement, oneOff } = found;
      if (agreement.status === 'Pending') {
        if (decision === 'accept') await svc.acceptAgreement(db, deps.wallet, agreement.id, source);
        else if (decision === 'reject') await svc.rejectAgreement(db, agreement.id);
        else return render(request, reply, 'Choose Accept or Reject.', 400);
      } else if (agreement.status === 'Accepted' && oneOff?.status === 'Requested') {
        if (decision === 'accept') {
          const ok = await svc.reserveOneOff(
            db,
            deps.wallet,
            agreement,
            oneOff,
            agreement.payer_ref ?? source,
            'payer',
          );
          if (!ok) return render(request, reply, 'The payment could not be reserved. Try another card.', 402);
        } else if (decision === 'reject') await svc.rejectOneOff(db, oneOff.id);
        else return render(request, reply, 'Choose Accept or Reject.', 400);
      } else {
        return render(request, reply, null, 409);
      }
    } catch (error) {
      if (isMpError(error)) return render(request, reply, error.message, 409);
      throw error;
    }
    const redirect = query.redirectUrl ?? found.agreement.links.find((l) => l.rel === 'user-redirect')?.href;
    if (!redirect || !/^https?:\/\//.test(redirect))
      return render(request, reply, 'Done. You can close this page.');
    return reply.code(303).header('location', redirect).send();
  });
}
