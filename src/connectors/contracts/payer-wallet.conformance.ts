import { describe, expect, it } from 'vitest';
import { money, type Money } from '../../core/money/money.js';
import type { CallOptions } from './call-budget.js';
import {
  conformanceReferences,
  expectNoTrace,
  hangBudgetMsDefault,
  requestBudget,
} from './conformance-kit.js';
import type { ConnectorOutcome } from './outcome.js';
import type { PayerWalletConnector, WalletPaymentRequest, WalletStatus } from './payer-wallet.js';

/** The inputs that make an implementation show each behaviour (its magic values or vendor test data). */
export interface PayerWalletConformanceMagic {
  /** An amount within limits of at least 2 minor units; its currency is the agreements' currency. */
  readonly amount: Money;
  /** Approves approval requests (within `statusPollsMax` lookups); reserves succeed. */
  readonly payerApproves: string;
  /** Rejects approval requests (within `statusPollsMax` lookups). */
  readonly payerRejects: string;
  /** Never answers: approval requests stay pending. */
  readonly payerNeverAnswers?: string;
  /** Approves agreements; reserves are declined `insufficient_funds`. */
  readonly payerInsufficientFunds?: string;
  /** Every request is declined `account_blocked`. */
  readonly payerBlocked?: string;
  /** Answers lost (`unknown`) although the wallet recorded the request. */
  readonly payerUnknownButRecorded?: string;
  /** Connection refused (`not_sent`). */
  readonly payerNotSent?: string;
  /** No answer until the budget runs out; the request was recorded. */
  readonly payerHangs?: string;
  readonly hangBudgetMs?: number;
  readonly statusPollsMax?: number;
}

/** What every payer wallet connector must do, simulators included (STYLE.md §5). */
export function describePayerWalletConformance(
  name: string,
  makeConnector: () => PayerWalletConnector,
  magic: PayerWalletConformanceMagic,
): void {
  const capabilities = makeConnector().capabilities();
  const nextReference = conformanceReferences('wal');
  const options = requestBudget;
  const hangBudgetMs = magic.hangBudgetMs ?? hangBudgetMsDefault;
  const statusPollsMax = magic.statusPollsMax ?? 3;
  const { amount } = magic;
  const currency = amount.currency;
  const half = money(amount.amountMinor / 2n, currency);
  const zero = money(0n, currency);
  const agreementFor = (payerId: string, reference = nextReference()) => ({
    reference,
    payerId,
    description: 'Conformance subscription',
    currency,
    amount,
  });
  const paymentOn = (agreementReference: string, reference = nextReference()): WalletPaymentRequest => ({
    reference,
    agreementReference,
    amount,
    description: 'Conformance payment',
  });

  /** Looks the reference up until it is no longer pending, at most `statusPollsMax` times. */
  const settled = async (
    wallet: PayerWalletConnector,
    reference: string,
  ): Promise<ConnectorOutcome<WalletStatus>> => {
    let status = await wallet.status({ reference }, options);
    for (let poll = 1; poll < statusPollsMax && status.status === 'pending'; poll++) {
      status = await wallet.status({ reference }, options);
    }
    return status;
  };

  /** An approved agreement's reference. */
  const approvedAgreement = async (
    wallet: PayerWalletConnector,
    payerId = magic.payerApproves,
  ): Promise<string> => {
    const request = agreementFor(payerId);
    const outcome = await wallet.requestAgreementApproval(request, options);
    expect(['pending', 'succeeded']).toContain(outcome.status);
    expect((await settled(wallet, request.reference)).status).toBe('succeeded');
    return request.reference;
  };

  /** A reserved (directly) payment's reference. */
  const reserved = async (wallet: PayerWalletConnector): Promise<string> => {
    const request = paymentOn(await approvedAgreement(wallet));
    expect((await wallet.reserve(request, options)).status).toBe('succeeded');
    return request.reference;
  };

  describe(`${name}: payer wallet conformance`, () => {
    it('declares coherent capabilities', () => {
      expect(capabilities.currencies).toContain(currency);
      expect(capabilities.perTransactionMaxMinor).toBeGreaterThanOrEqual(amount.amountMinor);
      if (capabilities.partialRefundsSupported) expect(capabilities.refundsSupported).toBe(true);
    });

    it('asks for an agreement once per reference; the approval shows through status', async () => {
      const wallet = makeConnector();
      const request = agreementFor(magic.payerApproves);
      const first = await wallet.requestAgreementApproval(request, options);
      expect(['pending', 'succeeded']).toContain(first.status);
      expect(first.connectorReference).toBeTruthy();
      expect(await wallet.requestAgreementApproval(request, options)).toEqual(first);
      expect(await settled(wallet, request.reference)).toMatchObject({
        status: 'succeeded',
        data: { operation: 'agreement', payerId: magic.payerApproves, currency },
      });
      expect(await wallet.requestAgreementApproval(request, options)).toMatchObject({ status: 'succeeded' });
    });

    it('returns a payer’s rejection as a declined value, rejected_by_payer', async () => {
      const wallet = makeConnector();
      const request = agreementFor(magic.payerRejects);
      await wallet.requestAgreementApproval(request, options);
      const status = await settled(wallet, request.reference);
      expect(status).toMatchObject({ status: 'declined', declineReason: 'rejected_by_payer' });
      expect(status.rawCode).not.toBe('');
    });

    const neverAnswers = magic.payerNeverAnswers;
    it.runIf(neverAnswers !== undefined)(
      'keeps an unanswered request pending, however often it is looked up',
      async () => {
        const wallet = makeConnector();
        const request = agreementFor(neverAnswers ?? '');
        expect((await wallet.requestAgreementApproval(request, options)).status).toBe('pending');
        expect((await settled(wallet, request.reference)).status).toBe('pending');
      },
    );

    const blocked = magic.payerBlocked;
    it.runIf(blocked !== undefined)(
      'declines every request of a blocked payer as account_blocked',
      async () => {
        const wallet = makeConnector();
        const outcome = await wallet.requestAgreementApproval(agreementFor(blocked ?? ''), options);
        expect(outcome).toMatchObject({ status: 'declined', declineReason: 'account_blocked' });
      },
    );

    it('declines a payer id that is no phone number as invalid_account', async () => {
      const wallet = makeConnector();
      const outcome = await wallet.requestAgreementApproval(agreementFor('not-a-phone'), options);
      expect(outcome).toMatchObject({ status: 'declined', declineReason: 'invalid_account' });
    });

    it('reserves a payment the payer approves, and captures it', async () => {
      const wallet = makeConnector();
      const request = paymentOn(await approvedAgreement(wallet));
      const outcome = await wallet.requestPaymentApproval(request, options);
      expect(['pending', 'succeeded']).toContain(outcome.status);
      expect(await settled(wallet, request.reference)).toMatchObject({
        status: 'succeeded',
        data: { operation: 'reservation', amount, approvedByPayer: true, capturedAmount: zero },
      });
      const capture = await wallet.capture(
        { reference: nextReference(), reservationReference: request.reference, amount },
        options,
      );
      expect(capture.status).toBe('succeeded');
    });

    it('declines payments on an agreement that is not approved as invalid_state', async () => {
      const wallet = makeConnector();
      const rejected = agreementFor(magic.payerRejects);
      await wallet.requestAgreementApproval(rejected, options);
      await settled(wallet, rejected.reference);
      for (const agreementReference of [rejected.reference, nextReference()]) {
        expect(await wallet.reserve(paymentOn(agreementReference), options)).toMatchObject({
          status: 'declined',
          declineReason: 'invalid_state',
        });
        expect(await wallet.requestPaymentApproval(paymentOn(agreementReference), options)).toMatchObject({
          status: 'declined',
          declineReason: 'invalid_state',
        });
      }
    });

    it('declines a payment in another currency than the agreement’s as invalid_amount', async () => {
      const wallet = makeConnector();
      const agreementReference = await approvedAgreement(wallet);
      const other = capabilities.currencies.find((candidate) => candidate !== currency);
      if (other === undefined) return;
      const outcome = await wallet.reserve(
        { ...paymentOn(agreementReference), amount: money(amount.amountMinor, other) },
        options,
      );
      expect(outcome).toMatchObject({ status: 'declined', declineReason: 'invalid_amount' });
    });

    const poorPayer = magic.payerInsufficientFunds;
    it.runIf(poorPayer !== undefined)(
      'declines reserving from a payer without funds as insufficient_funds',
      async () => {
        const wallet = makeConnector();
        const agreementReference = await approvedAgreement(wallet, poorPayer);
        expect(await wallet.reserve(paymentOn(agreementReference), options)).toMatchObject({
          status: 'declined',
          declineReason: 'insufficient_funds',
        });
      },
    );

    it('captures a reservation once, at most the reserved amount', async () => {
      const wallet = makeConnector();
      const reservationReference = await reserved(wallet);
      const tooMuch = money(amount.amountMinor + 1n, currency);
      const over = await wallet.capture(
        { reference: nextReference(), reservationReference, amount: tooMuch },
        options,
      );
      expect(over).toMatchObject({ status: 'declined', declineReason: 'invalid_amount' });
      const capture = { reference: nextReference(), reservationReference, amount };
      const first = await wallet.capture(capture, options);
      expect(first).toMatchObject({ status: 'succeeded', data: { reservationReference, amount } });
      expect(await wallet.capture(capture, options)).toEqual(first);
      const second = await wallet.capture({ ...capture, reference: nextReference() }, options);
      expect(second).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
      expect(await wallet.status({ reference: reservationReference }, options)).toMatchObject({
        data: { capturedAmount: amount, cancelled: false },
      });
    });

    if (capabilities.partialCaptureSupported) {
      it('captures less than reserved, once', async () => {
        const wallet = makeConnector();
        const reservationReference = await reserved(wallet);
        const partial = await wallet.capture(
          { reference: nextReference(), reservationReference, amount: half },
          options,
        );
        expect(partial.status).toBe('succeeded');
        const rest = await wallet.capture(
          { reference: nextReference(), reservationReference, amount: half },
          options,
        );
        expect(rest).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
      });
    }

    it('cancels a reservation once; nothing can be captured after', async () => {
      const wallet = makeConnector();
      const reservationReference = await reserved(wallet);
      const cancel = { reference: nextReference(), reservationReference };
      const first = await wallet.cancel(cancel, options);
      expect(first).toMatchObject({ status: 'succeeded', data: { reservationReference, amount } });
      expect(await wallet.cancel(cancel, options)).toEqual(first);
      const capture = await wallet.capture(
        { reference: nextReference(), reservationReference, amount },
        options,
      );
      expect(capture).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
      expect(await wallet.status({ reference: reservationReference }, options)).toMatchObject({
        data: { cancelled: true, capturedAmount: zero },
      });
    });

    it('declines cancelling a captured reservation as invalid_state', async () => {
      const wallet = makeConnector();
      const reservationReference = await reserved(wallet);
      await wallet.capture({ reference: nextReference(), reservationReference, amount }, options);
      const outcome = await wallet.cancel({ reference: nextReference(), reservationReference }, options);
      expect(outcome).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
    });

    if (capabilities.refundsSupported) {
      it('refunds only what was captured, once per reference, and never more', async () => {
        const wallet = makeConnector();
        const reservationReference = await reserved(wallet);
        const early = await wallet.refund(
          { reference: nextReference(), reservationReference, amount },
          options,
        );
        expect(early).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
        await wallet.capture({ reference: nextReference(), reservationReference, amount }, options);
        const refund = { reference: nextReference(), reservationReference, amount };
        const first = await wallet.refund(refund, options);
        expect(first).toMatchObject({ status: 'succeeded', data: { reservationReference, amount } });
        expect(await wallet.refund(refund, options)).toEqual(first);
        const more = await wallet.refund({ ...refund, reference: nextReference(), amount: half }, options);
        expect(more).toMatchObject({ status: 'declined', declineReason: 'invalid_amount' });
        expect(await wallet.status({ reference: reservationReference }, options)).toMatchObject({
          data: { refundedAmount: amount },
        });
      });
    } else {
      it('declines every refund as not_supported', async () => {
        const wallet = makeConnector();
        const reservationReference = await reserved(wallet);
        await wallet.capture({ reference: nextReference(), reservationReference, amount }, options);
        const outcome = await wallet.refund(
          { reference: nextReference(), reservationReference, amount },
          options,
        );
        expect(outcome).toMatchObject({ status: 'declined', declineReason: 'not_supported' });
      });
    }

    it('answers not_sent to a status lookup of a reference it never saw', async () => {
      await expectNoTrace(makeConnector(), nextReference());
    });

    it('sends nothing when a call is aborted before it starts; the reference stays usable', async () => {
      const wallet = makeConnector();
      const request = agreementFor(magic.payerApproves);
      const aborted: CallOptions = { timeoutMs: 1_000, signal: AbortSignal.abort() };
      expect((await wallet.requestAgreementApproval(request, aborted)).status).toBe('not_sent');
      await expectNoTrace(wallet, request.reference);
      expect(['pending', 'succeeded']).toContain(
        (await wallet.requestAgreementApproval(request, options)).status,
      );
    });

    it('rejects a reference reused with other parameters, and the first request stands', async () => {
      const wallet = makeConnector();
      const agreementReference = await approvedAgreement(wallet);
      const request = paymentOn(agreementReference);
      await wallet.reserve(request, options);
      const other = { ...request, amount: half };
      await expect(wallet.reserve(other, options)).rejects.toThrow(/different parameters/);
      expect(await wallet.status({ reference: request.reference }, options)).toMatchObject({
        data: { amount },
      });
    });

    const unknownPayer = magic.payerUnknownButRecorded;
    it.runIf(unknownPayer !== undefined)(
      'resolves an unknown request by status: it was recorded, once',
      async () => {
        const wallet = makeConnector();
        const request = agreementFor(unknownPayer ?? '');
        const outcome = await wallet.requestAgreementApproval(request, options);
        expect(outcome.status).toBe('unknown');
        expect(outcome.rawCode).not.toBe('');
        expect((await settled(wallet, request.reference)).status).toBe('succeeded');
      },
    );

    const notSentPayer = magic.payerNotSent;
    it.runIf(notSentPayer !== undefined)('leaves no trace of a not_sent request', async () => {
      const wallet = makeConnector();
      const request = agreementFor(notSentPayer ?? '');
      expect((await wallet.requestAgreementApproval(request, options)).status).toBe('not_sent');
      await expectNoTrace(wallet, request.reference);
    });

    const hangPayer = magic.payerHangs;
    it.runIf(hangPayer !== undefined)('ends a hanging request at its time budget as unknown', async () => {
      const wallet = makeConnector();
      const request = agreementFor(hangPayer ?? '');
      expect((await wallet.requestAgreementApproval(request, { timeoutMs: hangBudgetMs })).status).toBe(
        'unknown',
      );
      expect((await settled(wallet, request.reference)).status).toBe('succeeded');
    });

    it.runIf(hangPayer !== undefined)(
      'ends a hanging request when the caller aborts, as unknown',
      async () => {
        const wallet = makeConnector();
        const controller = new AbortController();
        const call = wallet.requestAgreementApproval(agreementFor(hangPayer ?? ''), {
          timeoutMs: 60_000,
          signal: controller.signal,
        });
        controller.abort();
        expect((await call).status).toBe('unknown');
      },
    );
  });
}
