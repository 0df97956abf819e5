import { describe, expect, it } from 'vitest';
import { money, type Currency, type Money } from '../../core/money/money.js';
import type { CardAcquirerConnector, CardAuthorizeRequest } from './card-acquirer.js';
import {
  conformanceReferences,
  expectNoTrace,
  hangBudgetMsDefault,
  requestBudget,
} from './conformance-kit.js';
import type { DeclineReason } from './outcome.js';

/** The inputs that make an implementation show each behaviour. Cards are vault tokens, never PANs. */
export interface CardAcquirerConformanceMagic {
  /** An amount within limits of at least 2 minor units (partial captures and refunds halve it). */
  readonly amount: Money;
  readonly cardSucceeds: string;
  readonly cardDeclines: { readonly cardToken: string; readonly declineReason: DeclineReason };
  /** A token the acquirer never issued: declined `invalid_account`. */
  readonly cardUnknownToken: string;
  /** Authorization `pending`; status settles it (within `statusPollsMax` lookups) as `settlesAs`. */
  readonly cardPending?: { readonly cardToken: string; readonly settlesAs: 'succeeded' | 'declined' };
  /** Answer lost (`unknown`) although the acquirer authorized. */
  readonly cardUnknownButAuthorized?: string;
  /** Connection refused (`not_sent`). */
  readonly cardNotSent?: string;
  /** No answer until the budget runs out; it was authorized. */
  readonly cardHangs?: string;
  /** Approves customer-initiated authorizations, declines merchant-initiated charges. */
  readonly cardDeclinesMerchantInitiated?: {
    readonly cardToken: string;
    readonly declineReason: DeclineReason;
  };
  /** A currency the acquirer does not accept. */
  readonly unsupportedCurrency?: Currency;
  readonly hangBudgetMs?: number;
  readonly statusPollsMax?: number;
}

/** What every card acquirer connector must do, simulators included (STYLE.md §5). */
export function describeCardAcquirerConformance(
  name: string,
  makeConnector: () => CardAcquirerConnector,
  magic: CardAcquirerConformanceMagic,
): void {
  const capabilities = makeConnector().capabilities();
  const nextReference = conformanceReferences('card');
  const options = requestBudget;
  const hangBudgetMs = magic.hangBudgetMs ?? hangBudgetMsDefault;
  const statusPollsMax = magic.statusPollsMax ?? 3;
  const { amount } = magic;
  const half = money(amount.amountMinor / 2n, amount.currency);
  const zero = money(0n, amount.currency);
  const authorizeWith = (
    cardToken: string,
    captureMode: 'automatic' | 'manual' = 'manual',
    reference = nextReference(),
  ): CardAuthorizeRequest => ({
    reference,
    cardToken,
    amount,
    captureMode,
    storeForMerchantInitiated: false,
  });

  /** A succeeded manual authorization's reference. */
  const authorized = async (acquirer: CardAcquirerConnector): Promise<string> => {
    const request = authorizeWith(magic.cardSucceeds);
    expect((await acquirer.authorize(request, options)).status).toBe('succeeded');
    return request.reference;
  };

  describe(`${name}: card acquirer conformance`, () => {
    it('declares coherent capabilities', () => {
      expect(capabilities.currencies).toContain(amount.currency);
      expect(capabilities.perTransactionMaxMinor).toBeGreaterThanOrEqual(amount.amountMinor);
      if (capabilities.partialRefundsSupported) expect(capabilities.refundsSupported).toBe(true);
    });

    it('authorizes once per reference and holds the amount uncaptured', async () => {
      const acquirer = makeConnector();
      const request = authorizeWith(magic.cardSucceeds);
      const first = await acquirer.authorize(request, options);
      expect(first).toMatchObject({ status: 'succeeded', data: { amount, captured: false } });
      expect(first.connectorReference).toBeTruthy();
      if (first.status === 'succeeded') expect(first.data.cardLast4).toMatch(/^\d{4}$/);
      expect(await acquirer.authorize(request, options)).toEqual(first);
      expect(await acquirer.status({ reference: request.reference }, options)).toMatchObject({
        status: 'succeeded',
        data: { operation: 'payment', initiatedBy: 'customer', amount, capturedAmount: zero, voided: false },
      });
    });

    it('captures a sale at once', async () => {
      const acquirer = makeConnector();
      const request = authorizeWith(magic.cardSucceeds, 'automatic');
      expect(await acquirer.authorize(request, options)).toMatchObject({
        status: 'succeeded',
        data: { captured: true },
      });
      expect(await acquirer.status({ reference: request.reference }, options)).toMatchObject({
        data: { capturedAmount: amount },
      });
    });

    it('returns a decline as a value with its stable reason and raw code; status agrees', async () => {
      const acquirer = makeConnector();
      const request = authorizeWith(magic.cardDeclines.cardToken);
      const outcome = await acquirer.authorize(request, options);
      expect(outcome).toMatchObject({ status: 'declined', declineReason: magic.cardDeclines.declineReason });
      expect(outcome.rawCode).not.toBe('');
      expect(await acquirer.authorize(request, options)).toEqual(outcome);
      expect(await acquirer.status({ reference: request.reference }, options)).toMatchObject({
        status: 'declined',
      });
    });

    it('declines a token it never issued as invalid_account', async () => {
      const acquirer = makeConnector();
      const outcome = await acquirer.authorize(authorizeWith(magic.cardUnknownToken), options);
      expect(outcome).toMatchObject({ status: 'declined', declineReason: 'invalid_account' });
    });

    it('declines a payment above the per-transaction maximum as limit_exceeded', async () => {
      const acquirer = makeConnector();
      const tooMuch = money(capabilities.perTransactionMaxMinor + 1n, amount.currency);
      const outcome = await acquirer.authorize(
        { ...authorizeWith(magic.cardSucceeds), amount: tooMuch },
        options,
      );
      expect(outcome).toMatchObject({ status: 'declined', declineReason: 'limit_exceeded' });
    });

    const unsupportedCurrency = magic.unsupportedCurrency;
    it.runIf(unsupportedCurrency !== undefined)(
      'declines a currency it does not accept as not_supported',
      async () => {
        const acquirer = makeConnector();
        const other = money(amount.amountMinor, unsupportedCurrency ?? amount.currency);
        const outcome = await acquirer.authorize(
          { ...authorizeWith(magic.cardSucceeds), amount: other },
          options,
        );
        expect(outcome).toMatchObject({ status: 'declined', declineReason: 'not_supported' });
      },
    );

    it('captures once, at most the authorized amount', async () => {
      const acquirer = makeConnector();
      const authorizationReference = await authorized(acquirer);
      const tooMuch = money(amount.amountMinor + 1n, amount.currency);
      const over = await acquirer.capture(
        { reference: nextReference(), authorizationReference, amount: tooMuch },
        options,
      );
      expect(over).toMatchObject({ status: 'declined', declineReason: 'invalid_amount' });
      const capture = { reference: nextReference(), authorizationReference, amount };
      const first = await acquirer.capture(capture, options);
      expect(first).toMatchObject({ status: 'succeeded', data: { authorizationReference, amount } });
      expect(await acquirer.capture(capture, options)).toEqual(first);
      const second = await acquirer.capture({ ...capture, reference: nextReference() }, options);
      expect(second).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
      expect(await acquirer.status({ reference: authorizationReference }, options)).toMatchObject({
        data: { capturedAmount: amount },
      });
    });

    if (capabilities.partialCaptureSupported) {
      it('captures less than authorized, once', async () => {
        const acquirer = makeConnector();
        const authorizationReference = await authorized(acquirer);
        const partial = await acquirer.capture(
          { reference: nextReference(), authorizationReference, amount: half },
          options,
        );
        expect(partial.status).toBe('succeeded');
        const rest = await acquirer.capture(
          { reference: nextReference(), authorizationReference, amount: half },
          options,
        );
        expect(rest).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
        expect(await acquirer.status({ reference: authorizationReference }, options)).toMatchObject({
          data: { capturedAmount: half },
        });
      });
    }

    it('declines capturing a sale, a declined authorization or an unknown one as invalid_state', async () => {
      const acquirer = makeConnector();
      const sale = authorizeWith(magic.cardSucceeds, 'automatic');
      await acquirer.authorize(sale, options);
      const refused = authorizeWith(magic.cardDeclines.cardToken);
      await acquirer.authorize(refused, options);
      for (const authorizationReference of [sale.reference, refused.reference, nextReference()]) {
        const outcome = await acquirer.capture(
          { reference: nextReference(), authorizationReference, amount },
          options,
        );
        expect(outcome).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
      }
    });

    it('voids an uncaptured authorization once; nothing can be captured after', async () => {
      const acquirer = makeConnector();
      const authorizationReference = await authorized(acquirer);
      const voidRequest = { reference: nextReference(), authorizationReference };
      const first = await acquirer.void(voidRequest, options);
      expect(first).toMatchObject({ status: 'succeeded', data: { authorizationReference, amount } });
      expect(await acquirer.void(voidRequest, options)).toEqual(first);
      const capture = await acquirer.capture(
        { reference: nextReference(), authorizationReference, amount },
        options,
      );
      expect(capture).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
      expect(await acquirer.status({ reference: authorizationReference }, options)).toMatchObject({
        data: { voided: true, capturedAmount: zero },
      });
    });

    it('declines a void after capture as invalid_state', async () => {
      const acquirer = makeConnector();
      const authorizationReference = await authorized(acquirer);
      await acquirer.capture({ reference: nextReference(), authorizationReference, amount }, options);
      const outcome = await acquirer.void({ reference: nextReference(), authorizationReference }, options);
      expect(outcome).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
    });

    if (capabilities.refundsSupported) {
      it('refunds what was captured, once per reference, and never more', async () => {
        const acquirer = makeConnector();
        const sale = authorizeWith(magic.cardSucceeds, 'automatic');
        await acquirer.authorize(sale, options);
        const refund = { reference: nextReference(), paymentReference: sale.reference, amount };
        const first = await acquirer.refund(refund, options);
        expect(first).toMatchObject({
          status: 'succeeded',
          data: { paymentReference: sale.reference, amount },
        });
        expect(await acquirer.refund(refund, options)).toEqual(first);
        const more = await acquirer.refund({ ...refund, reference: nextReference(), amount: half }, options);
        expect(more).toMatchObject({ status: 'declined', declineReason: 'invalid_amount' });
        expect(await acquirer.status({ reference: sale.reference }, options)).toMatchObject({
          data: { refundedAmount: amount },
        });
      });

      it('refunds only a captured payment, up to the captured amount', async () => {
        const acquirer = makeConnector();
        const authorizationReference = await authorized(acquirer);
        const early = await acquirer.refund(
          { reference: nextReference(), paymentReference: authorizationReference, amount },
          options,
        );
        expect(early).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
        const captured = capabilities.partialCaptureSupported ? half : amount;
        await acquirer.capture(
          { reference: nextReference(), authorizationReference, amount: captured },
          options,
        );
        const tooMuch = money(captured.amountMinor + 1n, amount.currency);
        const over = await acquirer.refund(
          { reference: nextReference(), paymentReference: authorizationReference, amount: tooMuch },
          options,
        );
        expect(over).toMatchObject({ status: 'declined', declineReason: 'invalid_amount' });
        const exact = await acquirer.refund(
          { reference: nextReference(), paymentReference: authorizationReference, amount: captured },
          options,
        );
        expect(exact.status).toBe('succeeded');
      });
    } else {
      it('declines every refund as not_supported', async () => {
        const acquirer = makeConnector();
        const sale = authorizeWith(magic.cardSucceeds, 'automatic');
        await acquirer.authorize(sale, options);
        const outcome = await acquirer.refund(
          { reference: nextReference(), paymentReference: sale.reference, amount },
          options,
        );
        expect(outcome).toMatchObject({ status: 'declined', declineReason: 'not_supported' });
      });
    }

    if (capabilities.merchantInitiatedSupported) {
      it('charges a stored card merchant-initiated, citing the first network transaction id, once', async () => {
        const acquirer = makeConnector();
        const first = await acquirer.authorize(
          { ...authorizeWith(magic.cardSucceeds, 'automatic'), storeForMerchantInitiated: true },
          options,
        );
        expect(first.status).toBe('succeeded');
        if (first.status !== 'succeeded') return;
        const charge = {
          reference: nextReference(),
          cardToken: magic.cardSucceeds,
          amount,
          previousNetworkTransactionId: first.data.networkTransactionId,
        };
        const outcome = await acquirer.chargeMerchantInitiated(charge, options);
        expect(outcome).toMatchObject({ status: 'succeeded', data: { amount, captured: true } });
        expect(await acquirer.chargeMerchantInitiated(charge, options)).toEqual(outcome);
        expect(await acquirer.status({ reference: charge.reference }, options)).toMatchObject({
          data: { operation: 'payment', initiatedBy: 'merchant', capturedAmount: amount },
        });
      });

      const mitDecline = magic.cardDeclinesMerchantInitiated;
      it.runIf(mitDecline !== undefined)(
        'declines merchant-initiated charges on a card that approved the first',
        async () => {
          const acquirer = makeConnector();
          const cardToken = mitDecline?.cardToken ?? '';
          const first = await acquirer.authorize(
            { ...authorizeWith(cardToken, 'automatic'), storeForMerchantInitiated: true },
            options,
          );
          expect(first.status).toBe('succeeded');
          if (first.status !== 'succeeded') return;
          const outcome = await acquirer.chargeMerchantInitiated(
            {
              reference: nextReference(),
              cardToken,
              amount,
              previousNetworkTransactionId: first.data.networkTransactionId,
            },
            options,
          );
          expect(outcome).toMatchObject({ status: 'declined', declineReason: mitDecline?.declineReason });
        },
      );
    } else {
      it('declines merchant-initiated charges as not_supported', async () => {
        const acquirer = makeConnector();
        const first = await acquirer.authorize(
          { ...authorizeWith(magic.cardSucceeds, 'automatic'), storeForMerchantInitiated: true },
          options,
        );
        const previousNetworkTransactionId =
          first.status === 'succeeded' ? first.data.networkTransactionId : '';
        const outcome = await acquirer.chargeMerchantInitiated(
          { reference: nextReference(), cardToken: magic.cardSucceeds, amount, previousNetworkTransactionId },
          options,
        );
        expect(outcome).toMatchObject({ status: 'declined', declineReason: 'not_supported' });
      });
    }

    it('answers not_sent to a status lookup of a reference it never saw', async () => {
      await expectNoTrace(makeConnector(), nextReference());
    });

    it('sends nothing when a call is aborted before it starts; the reference stays usable', async () => {
      const acquirer = makeConnector();
      const request = authorizeWith(magic.cardSucceeds);
      const aborted = await acquirer.authorize(request, { timeoutMs: 1_000, signal: AbortSignal.abort() });
      expect(aborted.status).toBe('not_sent');
      await expectNoTrace(acquirer, request.reference);
      expect((await acquirer.authorize(request, options)).status).toBe('succeeded');
    });

    it('rejects a reference reused with other parameters, and the first payment stands', async () => {
      const acquirer = makeConnector();
      const request = authorizeWith(magic.cardSucceeds);
      await acquirer.authorize(request, options);
      await expect(acquirer.authorize({ ...request, captureMode: 'automatic' }, options)).rejects.toThrow(
        /different parameters/,
      );
      expect(await acquirer.status({ reference: request.reference }, options)).toMatchObject({
        status: 'succeeded',
        data: { capturedAmount: zero },
      });
    });

    const pendingMagic = magic.cardPending;
    it.runIf(pendingMagic !== undefined)('settles a pending authorization through status', async () => {
      const acquirer = makeConnector();
      const request = authorizeWith(pendingMagic?.cardToken ?? '');
      expect((await acquirer.authorize(request, options)).status).toBe('pending');
      const capture = await acquirer.capture(
        { reference: nextReference(), authorizationReference: request.reference, amount },
        options,
      );
      expect(capture).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
      let status = await acquirer.status({ reference: request.reference }, options);
      for (let poll = 1; poll < statusPollsMax && status.status === 'pending'; poll++) {
        status = await acquirer.status({ reference: request.reference }, options);
      }
      expect(status.status).toBe(pendingMagic?.settlesAs);
    });

    const unknownCard = magic.cardUnknownButAuthorized;
    it.runIf(unknownCard !== undefined)(
      'resolves an unknown authorization by status: it happened, once',
      async () => {
        const acquirer = makeConnector();
        const request = authorizeWith(unknownCard ?? '');
        const outcome = await acquirer.authorize(request, options);
        expect(outcome.status).toBe('unknown');
        expect(outcome.rawCode).not.toBe('');
        expect(await acquirer.status({ reference: request.reference }, options)).toMatchObject({
          status: 'succeeded',
          data: { operation: 'payment', amount },
        });
      },
    );

    const notSentCard = magic.cardNotSent;
    it.runIf(notSentCard !== undefined)('leaves no trace of a not_sent authorization', async () => {
      const acquirer = makeConnector();
      const request = authorizeWith(notSentCard ?? '');
      expect((await acquirer.authorize(request, options)).status).toBe('not_sent');
      await expectNoTrace(acquirer, request.reference);
    });

    const hangCard = magic.cardHangs;
    it.runIf(hangCard !== undefined)(
      'ends a hanging authorization at its time budget as unknown',
      async () => {
        const acquirer = makeConnector();
        const request = authorizeWith(hangCard ?? '');
        expect((await acquirer.authorize(request, { timeoutMs: hangBudgetMs })).status).toBe('unknown');
        expect((await acquirer.status({ reference: request.reference }, options)).status).toBe('succeeded');
      },
    );

    it.runIf(hangCard !== undefined)(
      'ends a hanging authorization when the caller aborts, as unknown',
      async () => {
        const acquirer = makeConnector();
        const controller = new AbortController();
        const call = acquirer.authorize(authorizeWith(hangCard ?? ''), {
          timeoutMs: 60_000,
          signal: controller.signal,
        });
        controller.abort();
        expect((await call).status).toBe('unknown');
      },
    );
  });
}
