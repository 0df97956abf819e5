import type { CallOptions } from '../../connectors/contracts/call-budget.js';
import type { PayerWalletConnector } from '../../connectors/contracts/payer-wallet.js';
import { money, type Currency } from '../../core/money/money.js';

/**
 * The payer's wallet as this product uses it, through the payer-wallet connector contract (the sandbox
 * simulator's magic values are the payer's phone number: src/connectors/README.md). A charge on an
 * agreement is: the agreement known to the wallet (approval, then its status), a reservation, a capture.
 * Every step is keyed by our reference, so a retried charge never charges twice.
 */
export type ChargeResult =
  | { status: 'succeeded'; rawCode: string }
  | { status: 'declined'; rejectedByPayer: boolean; rawCode: string; rawMessage?: string | undefined }
  | { status: 'unknown'; rawCode: string };

const options: CallOptions = { timeoutMs: 10_000 };

export async function ensureWalletAgreement(
  wallet: PayerWalletConnector,
  input: { agreementId: string; payerId: string; description: string; currency: Currency },
): Promise<ChargeResult> {
  const approval = await wallet.requestAgreementApproval(
    {
      reference: input.agreementId,
      payerId: input.payerId,
      description: input.description.slice(0, 60) || 'Agreement',
      currency: input.currency,
    },
    options,
  );
  if (approval.status === 'declined') {
    return {
      status: 'declined',
      rejectedByPayer: approval.declineReason === 'rejected_by_payer',
      rawCode: approval.rawCode ?? '',
    };
  }
  if (approval.status === 'succeeded') return { status: 'succeeded', rawCode: approval.rawCode ?? '0' };
  const status = await wallet.status({ reference: input.agreementId }, options);
  if (status.status === 'succeeded') return { status: 'succeeded', rawCode: status.rawCode ?? '0' };
  if (status.status === 'declined') {
    return {
      status: 'declined',
      rejectedByPayer: status.declineReason === 'rejected_by_payer',
      rawCode: status.rawCode ?? '',
    };
  }
  return { status: 'unknown', rawCode: status.rawCode ?? 'unknown' };
}

/** Reserves (auto-reserve) or charges (reserve + capture) an amount on an agreement. */
export async function walletCharge(
  wallet: PayerWalletConnector,
  input: {
    agreementId: string;
    payerId: string;
    reference: string;
    amountMinor: bigint;
    currency: Currency;
    description: string;
    /** The agreement's plan: what the wallet's agreement record shows (stable for every charge). */
    agreementDescription: string;
    capture: boolean;
  },
): Promise<ChargeResult> {
  const agreement = await ensureWalletAgreement(wallet, {
    agreementId: input.agreementId,
    payerId: input.payerId,
    description: input.agreementDescription,
    currency: input.currency,
  });
  if (agreement.status !== 'succeeded') return agreement;
  const amount = money(input.amountMinor, input.currency);
  const reserve = await wallet.reserve(
    {
      reference: input.reference,
      agreementReference: input.agreementId,
      amount,
      description: input.description.slice(0, 60) || 'Payment',
    },
    options,
  );
  if (reserve.status === 'declined') {
    return {
      status: 'declined',
      rejectedByPayer: reserve.declineReason === 'rejected_by_payer',
      rawCode: reserve.rawCode ?? '',
      rawMessage: reserve.rawMessage,
    };
  }
  if (reserve.status !== 'succeeded') return { status: 'unknown', rawCode: reserve.rawCode ?? 'unknown' };
  if (!input.capture) return { status: 'succeeded', rawCode: reserve.rawCode ?? '0' };
  const capture = await wallet.capture(
    { reference: `${input.reference}-capture`, reservationReference: input.reference, amount },
    options,
  );
  if (capture.status === 'succeeded') return { status: 'succeeded', rawCode: capture.rawCode ?? '0' };
  if (capture.status === 'declined') {
    return { status: 'declined', rejectedByPayer: false, rawCode: capture.rawCode ?? '' };
  }
  return { status: 'unknown', rawCode: capture.rawCode ?? 'unknown' };
}
