import { describe, expect, it } from 'vitest';
import { money, type Currency, type Money } from '../../core/money/money.js';
import type { CarrierConnector } from './carrier.js';
import {
  conformanceReferences,
  expectNoTrace,
  hangBudgetMsDefault,
  requestBudget,
} from './conformance-kit.js';
import type { DeclineReason } from './outcome.js';

/** The inputs that make an implementation show each behaviour (its magic values or vendor test data). */
export interface CarrierConformanceMagic {
  /** A chargeable amount of at least 2 minor units (partial refunds halve it). */
  readonly amount: Money;
  readonly msisdnSucceeds: string;
  readonly msisdnDeclines: { readonly msisdn: string; readonly declineReason: DeclineReason };
  /** Charged as `pending`; status settles it (within `statusPollsMax` lookups) as `settlesAs`. */
  readonly msisdnPending?: { readonly msisdn: string; readonly settlesAs: 'succeeded' | 'declined' };
  /** Answer lost (`unknown`) although the charge happened. */
  readonly msisdnUnknownButCharged?: string;
  /** Connection refused (`not_sent`). */
  readonly msisdnNotSent?: string;
  /** No answer until the budget runs out; the charge happened. */
  readonly msisdnHangs?: string;
  /** A currency the carrier does not bill. */
  readonly unsupportedCurrency?: Currency;
  readonly hangBudgetMs?: number;
  readonly statusPollsMax?: number;
}

/**
 * What every carrier connector must do, simulators included (STYLE.md §5). Each test builds a fresh
 * connector; references are unique per run, so a vendor's shared sandbox can run the suite too.
 */
export function describeCarrierConformance(
  name: string,
  makeConnector: () => CarrierConnector,
  magic: CarrierConformanceMagic,
): void {
  const capabilities = makeConnector().capabilities();
  const nextReference = conformanceReferences('car');
  const options = requestBudget;
  const hangBudgetMs = magic.hangBudgetMs ?? hangBudgetMsDefault;
  const statusPollsMax = magic.statusPollsMax ?? 3;
  const { amount } = magic;
  const chargeTo = (msisdn: string, reference = nextReference()) => ({
    reference,
    msisdn,
    amount,
    description: 'Conformance test purchase',
  });

  describe(`${name}: carrier conformance`, () => {
    it('declares coherent capabilities', () => {
      expect(capabilities.currencies.length).toBeGreaterThan(0);
      expect(capabilities.currencies).toContain(amount.currency);
      expect(capabilities.perTransactionMaxMinor).toBeGreaterThanOrEqual(amount.amountMinor);
      if (capabilities.partialRefundsSupported) expect(capabilities.refundsSupported).toBe(true);
    });

    it('charges once per reference: a repeat gets the same answer and the same connector reference', async () => {
      const carrier = makeConnector();
      const request = chargeTo(magic.msisdnSucceeds);
      const first = await carrier.charge(request, options);
      expect(first).toMatchObject({ status: 'succeeded', data: { msisdn: magic.msisdnSucceeds, amount } });
      expect(first.rawCode).not.toBe('');
      expect(first.connectorReference).toBeTruthy();
      const second = await carrier.charge(request, options);
      expect(second).toEqual(first);
      const status = await carrier.status({ reference: request.reference }, options);
      expect(status).toMatchObject({
        status: 'succeeded',
        data: { operation: 'charge', amount, refundedAmount: money(0n, amount.currency) },
      });
    });

    it('returns a decline as a value with its stable reason and raw code; status agrees', async () => {
      const carrier = makeConnector();
      const request = chargeTo(magic.msisdnDeclines.msisdn);
      const outcome = await carrier.charge(request, options);
      expect(outcome).toMatchObject({
        status: 'declined',
        declineReason: magic.msisdnDeclines.declineReason,
      });
      expect(outcome.rawCode).not.toBe('');
      expect(await carrier.charge(request, options)).toEqual(outcome);
      expect(await carrier.status({ reference: request.reference }, options)).toMatchObject({
        status: 'declined',
        declineReason: magic.msisdnDeclines.declineReason,
      });
    });

    it('answers not_sent to a status lookup of a reference it never saw', async () => {
      const carrier = makeConnector();
      await expectNoTrace(carrier, nextReference());
    });

    it('sends nothing when the call is aborted before it starts; the reference stays usable', async () => {
      const carrier = makeConnector();
      const request = chargeTo(magic.msisdnSucceeds);
      const aborted = await carrier.charge(request, { timeoutMs: 1_000, signal: AbortSignal.abort() });
      expect(aborted.status).toBe('not_sent');
      await expectNoTrace(carrier, request.reference);
      expect((await carrier.charge(request, options)).status).toBe('succeeded');
    });

    it('rejects a reference reused with other parameters, and the first charge stands', async () => {
      const carrier = makeConnector();
      const request = chargeTo(magic.msisdnSucceeds);
      await carrier.charge(request, options);
      const other = { ...request, amount: money(amount.amountMinor + 1n, amount.currency) };
      await expect(carrier.charge(other, options)).rejects.toThrow(/different parameters/);
      expect(await carrier.status({ reference: request.reference }, options)).toMatchObject({
        status: 'succeeded',
        data: { amount },
      });
    });

    it('declines a charge above the per-transaction maximum as limit_exceeded', async () => {
      const carrier = makeConnector();
      const tooMuch = money(capabilities.perTransactionMaxMinor + 1n, amount.currency);
      const outcome = await carrier.charge({ ...chargeTo(magic.msisdnSucceeds), amount: tooMuch }, options);
      expect(outcome).toMatchObject({ status: 'declined', declineReason: 'limit_exceeded' });
    });

    const unsupportedCurrency = magic.unsupportedCurrency;
    it.runIf(unsupportedCurrency !== undefined)(
      'declines a currency it does not bill as not_supported',
      async () => {
        const carrier = makeConnector();
        const other = money(amount.amountMinor, unsupportedCurrency ?? amount.currency);
        const outcome = await carrier.charge({ ...chargeTo(magic.msisdnSucceeds), amount: other }, options);
        expect(outcome).toMatchObject({ status: 'declined', declineReason: 'not_supported' });
      },
    );

    const pendingMagic = magic.msisdnPending;
    it.runIf(pendingMagic !== undefined)(
      'settles a pending charge through status, never by charging again',
      async () => {
        const carrier = makeConnector();
        const msisdn = pendingMagic?.msisdn ?? '';
        const request = chargeTo(msisdn);
        expect((await carrier.charge(request, options)).status).toBe('pending');
        expect((await carrier.charge(request, options)).status).toBe('pending');
        let status = await carrier.status({ reference: request.reference }, options);
        for (let poll = 1; poll < statusPollsMax && status.status === 'pending'; poll++) {
          status = await carrier.status({ reference: request.reference }, options);
        }
        expect(status.status).toBe(pendingMagic?.settlesAs);
        expect(await carrier.charge(request, options)).toMatchObject({ status: pendingMagic?.settlesAs });
      },
    );

    const unknownMsisdn = magic.msisdnUnknownButCharged;
    it.runIf(unknownMsisdn !== undefined)(
      'resolves an unknown charge by status: it happened, once',
      async () => {
        const carrier = makeConnector();
        const request = chargeTo(unknownMsisdn ?? '');
        const outcome = await carrier.charge(request, options);
        expect(outcome.status).toBe('unknown');
        expect(outcome.rawCode).not.toBe('');
        expect(await carrier.status({ reference: request.reference }, options)).toMatchObject({
          status: 'succeeded',
          data: { operation: 'charge', amount },
        });
      },
    );

    const notSentMsisdn = magic.msisdnNotSent;
    it.runIf(notSentMsisdn !== undefined)('leaves no trace of a not_sent charge', async () => {
      const carrier = makeConnector();
      const request = chargeTo(notSentMsisdn ?? '');
      expect((await carrier.charge(request, options)).status).toBe('not_sent');
      await expectNoTrace(carrier, request.reference);
    });

    const hangMsisdn = magic.msisdnHangs;
    it.runIf(hangMsisdn !== undefined)('ends a hanging call at its time budget as unknown', async () => {
      const carrier = makeConnector();
      const request = chargeTo(hangMsisdn ?? '');
      expect((await carrier.charge(request, { timeoutMs: hangBudgetMs })).status).toBe('unknown');
      expect((await carrier.status({ reference: request.reference }, options)).status).toBe('succeeded');
    });

    it.runIf(hangMsisdn !== undefined)('ends a hanging call when the caller aborts, as unknown', async () => {
      const carrier = makeConnector();
      const controller = new AbortController();
      const call = carrier.charge(chargeTo(hangMsisdn ?? ''), {
        timeoutMs: 60_000,
        signal: controller.signal,
      });
      controller.abort();
      expect((await call).status).toBe('unknown');
    });

    if (capabilities.refundsSupported) {
      it('refunds a charge once per reference; status shows the refund on the charge', async () => {
        const carrier = makeConnector();
        const charge = chargeTo(magic.msisdnSucceeds);
        await carrier.charge(charge, options);
        const refund = { reference: nextReference(), chargeReference: charge.reference, amount };
        const first = await carrier.refund(refund, options);
        expect(first).toMatchObject({
          status: 'succeeded',
          data: { chargeReference: charge.reference, amount },
        });
        expect(await carrier.refund(refund, options)).toEqual(first);
        expect(await carrier.status({ reference: charge.reference }, options)).toMatchObject({
          status: 'succeeded',
          data: { operation: 'charge', refundedAmount: amount },
        });
        expect(await carrier.status({ reference: refund.reference }, options)).toMatchObject({
          status: 'succeeded',
          data: { operation: 'refund', chargeReference: charge.reference, amount },
        });
      });

      it('never refunds more than was charged', async () => {
        const carrier = makeConnector();
        const charge = chargeTo(magic.msisdnSucceeds);
        await carrier.charge(charge, options);
        await carrier.refund(
          { reference: nextReference(), chargeReference: charge.reference, amount },
          options,
        );
        const again = await carrier.refund(
          { reference: nextReference(), chargeReference: charge.reference, amount },
          options,
        );
        expect(again).toMatchObject({ status: 'declined', declineReason: 'invalid_amount' });
        expect(await carrier.status({ reference: charge.reference }, options)).toMatchObject({
          data: { refundedAmount: amount },
        });
      });

      it('declines a refund of a charge that did not succeed as invalid_state', async () => {
        const carrier = makeConnector();
        const declinedCharge = chargeTo(magic.msisdnDeclines.msisdn);
        await carrier.charge(declinedCharge, options);
        for (const chargeReference of [declinedCharge.reference, nextReference()]) {
          const outcome = await carrier.refund(
            { reference: nextReference(), chargeReference, amount },
            options,
          );
          expect(outcome).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
        }
      });

      const half = money(amount.amountMinor / 2n, amount.currency);
      if (capabilities.partialRefundsSupported) {
        it('adds partial refunds up to the charge and no further', async () => {
          const carrier = makeConnector();
          const charge = chargeTo(magic.msisdnSucceeds);
          await carrier.charge(charge, options);
          const refundHalf = () =>
            carrier.refund(
              { reference: nextReference(), chargeReference: charge.reference, amount: half },
              options,
            );
          expect((await refundHalf()).status).toBe('succeeded');
          expect((await refundHalf()).status).toBe('succeeded');
          const rest = amount.amountMinor - 2n * half.amountMinor;
          const third = await refundHalf();
          expect(third.status).toBe(rest >= half.amountMinor ? 'succeeded' : 'declined');
          const status = await carrier.status({ reference: charge.reference }, options);
          expect(status.status === 'succeeded' && status.data.operation === 'charge').toBe(true);
          if (status.status === 'succeeded' && status.data.operation === 'charge') {
            expect(status.data.refundedAmount.amountMinor).toBeLessThanOrEqual(amount.amountMinor);
          }
        });
      } else {
        it('declines a partial refund as not_supported', async () => {
          const carrier = makeConnector();
          const charge = chargeTo(magic.msisdnSucceeds);
          await carrier.charge(charge, options);
          const outcome = await carrier.refund(
            { reference: nextReference(), chargeReference: charge.reference, amount: half },
            options,
          );
          expect(outcome).toMatchObject({ status: 'declined', declineReason: 'not_supported' });
        });
      }
    } else {
      it('declines every refund as not_supported and the charge stays whole', async () => {
        const carrier = makeConnector();
        const charge = chargeTo(magic.msisdnSucceeds);
        await carrier.charge(charge, options);
        const outcome = await carrier.refund(
          { reference: nextReference(), chargeReference: charge.reference, amount },
          options,
        );
        expect(outcome).toMatchObject({ status: 'declined', declineReason: 'not_supported' });
        expect(await carrier.status({ reference: charge.reference }, options)).toMatchObject({
          data: { refundedAmount: money(0n, amount.currency) },
        });
      });
    }
  });
}
