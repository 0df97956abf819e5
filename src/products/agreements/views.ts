import { majorNumber } from './dialect.js';
import { oneOffStatus } from './service.js';
import type { AgreementRow, OneOffRow, PaymentRequestRow, ProviderRow, RefundRow } from './schema.js';

/** Response bodies in the vendor's casing: PascalCase for merchants/me, camelCase for refunds, snake_case elsewhere. */
const dateTime = (d: Date | null): string | null => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : null);

export function merchantView(merchantId: string, providers: ProviderRow[]) {
  return {
    Id: merchantId,
    SubscriptionProviders: providers.map((p) => ({
      SubscriptionProviderId: p.id,
      Name: p.name,
      HomepageUrl: p.homepage,
      CustomerServiceEmail: p.customer_service,
      SelfServicePortalUrl: p.portal,
      FaqUrl: p.faq,
      Status: p.status === 2 ? 'Enabled' : 'Pending',
      Address: p.address,
      ZipCode: p.zip_code,
      City: p.city,
    })),
  };
}

export function providerView(p: ProviderRow) {
  const auth = p.callback_auth as {
    scheme?: string;
    key?: string;
    user_name?: string;
    scope?: string | null;
  } | null;
  return {
    credentials: {
      key: auth?.key ?? auth?.user_name ?? null,
      password: null,
      scheme: auth?.scheme ?? null,
      scope: auth?.scope ?? null,
    },
    payment_status_callback_url: p.payment_status_callback_url,
    name: p.name,
    payment_source_account_id: null,
    customer_service: p.customer_service,
    faq: p.faq,
    homepage: p.homepage,
    portal: p.portal,
    external_account_number: null,
    status: p.status,
    address: p.address,
    zip_code: p.zip_code,
    city: p.city,
  };
}

export function agreementView(a: AgreementRow, landing: string) {
  return {
    id: a.id,
    date_created: dateTime(a.date_created),
    date_accepted: dateTime(a.date_accepted),
    date_canceled: dateTime(a.date_canceled),
    external_id: a.external_id,
    amount: a.amount_minor === null ? null : majorNumber(a.amount_minor),
    currency: a.currency,
    next_payment_date: a.next_payment_date,
    frequency: a.frequency,
    plan: a.plan,
    description: a.description,
    // MobilePay's GET calls an accepted agreement Active (vendor-apis.md §4.5); callbacks say Accepted.
    status: a.status === 'Accepted' ? 'Active' : a.status,
    country_code: a.country_code,
    links: [...a.links, ...(a.status === 'Pending' ? [{ rel: 'mobile-pay', href: landing }] : [])],
    expiration_timeout_minutes: a.expiration_timeout_minutes,
  };
}

export function oneOffView(o: OneOffRow & { payment_status: string | null }) {
  return {
    id: o.id,
    agreement_id: o.agreement_id,
    currency: o.currency,
    amount: majorNumber(o.amount_minor),
    description: o.description,
    status: oneOffStatus(o, o.payment_status),
    external_id: o.external_id,
    payment_transaction_id: o.payment_id,
    expiration_timeout_minutes: o.expiration_timeout_minutes,
  };
}

export function paymentRequestView(
  r: PaymentRequestRow & { external_agreement_id: string | null; next_payment_date: string | null },
) {
  return {
    id: r.id,
    agreement_id: r.agreement_id,
    amount: majorNumber(r.amount_minor),
    due_date: r.due_date,
    status: r.status,
    external_id: r.external_id,
    external_agreement_id: r.external_agreement_id,
    next_payment_date: r.next_payment_date,
    description: r.description,
    payment_transaction_id: r.payment_id,
    grace_period_days: r.grace_period_days ?? 0,
  };
}

export function refundView(r: RefundRow & { transaction_id: string | null }) {
  return {
    id: r.id,
    amount: majorNumber(r.amount_minor),
    currency: r.currency,
    status: r.status,
    externalId: r.external_id,
    paymentTransactionId: r.transaction_id,
  };
}
