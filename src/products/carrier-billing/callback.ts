import type { EventFormat } from '../../core/webhooks/dispatch.js';
import { formatAmount, parseCurrency } from '../../core/money/money.js';
import { encryptMx } from './mx.js';

/**
 * Merchant callbacks as Infomedia sends them: HTTP GET to the configured URL with every value
 * percent-encoded in the query string. `etid` 5 is a charge (Infomedia's value); Payloom uses 6 for a
 * refund (Infomedia's list is not public past 5 and 24). The MSISDN travels encrypted (`mx`); the
 * merchant opens it with `DecryptMX`.
 */
export const callbackFormatName = 'infomedia-get';
export const chargeEtid = '5';
export const refundEtid = '6';
export const callbackEventTypes = [
  'payment.succeeded',
  'payment.failed',
  'refund.succeeded',
  'refund.failed',
];

interface PaymentData {
  kind?: string;
  status?: string;
  amount_minor?: number;
  currency?: string;
  payer_ref?: string;
  raw_code?: string | null;
  reference?: string | null;
  description?: string | null;
  metadata?: Record<string, unknown>;
}

/** A metadata value as query text: strings and numbers as they are, anything else empty. */
function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

export function infomediaCallbackFormat(mxKey: Buffer): EventFormat {
  return {
    name: callbackFormatName,
    method: 'GET',
    build(event, endpoint) {
      const data = event.data as PaymentData;
      const metadata = data.metadata ?? {};
      const refund = data.kind === 'refund';
      const succeeded = data.status === 'succeeded';
      const currency = parseCurrency(data.currency ?? 'GBP');
      const query = new URLSearchParams({
        mx: encryptMx(mxKey, event.merchantId, data.payer_ref ?? ''),
        mcc: text(metadata.mcc),
        mnc: text(metadata.mnc),
        productid: text(metadata.product_id),
        etid: refund ? refundEtid : chargeEtid,
        pt: text(metadata.pt),
        success: succeeded ? '1' : '0',
        chargeAmount: formatAmount(BigInt(data.amount_minor ?? 0), currency),
        currencyCode: currency,
        productDescription: data.description ?? '',
        transactionStatus: data.raw_code ?? (succeeded ? '00' : '01'),
        txid: data.reference ?? '',
      });
      if (refund && typeof metadata.charge_txid === 'string') query.set('chargetxid', metadata.charge_txid);
      const url = new URL(endpoint.url);
      for (const [key, value] of query) url.searchParams.set(key, value);
      return { method: 'GET', url: url.toString(), headers: {} };
    },
  };
}
