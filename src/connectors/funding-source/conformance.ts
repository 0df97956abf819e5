import { describe, expect, it } from 'vitest';
import type { Money } from '../../core/money/money.js';
import { conformanceReferences, expectNoTrace, requestBudget } from '../contracts/conformance-kit.js';
import type { DeclineReason } from '../contracts/outcome.js';
import type { FundingSourceConnector, FundingSourceReserveRequest } from './contract.js';

/** The inputs that make an implementation show each behaviour (its magic values or the bank's test data). */
export interface FundingSourceConformanceMagic {
  readonly amount: Money;
  readonly sourceReserved: string;
  /** Sources the bank declines, with the bank code and reason each must give. */
  readonly declines: readonly { source: string; rawCode: string; declineReason: DeclineReason }[];
  /** Reservation made but the answer lost (`unknown`); `status()` finds it reserved. */
  readonly sourceAnswerLost?: string;
  /** Connection refused (`not_sent`): nothing reserved. */
  readonly sourceNotSent?: string;
}

/** What every funding-source connector must do, simulators included (STYLE.md §5). */
export function describeFundingSourceConformance(
  name: string,
  makeConnector: () => FundingSourceConnector,
  magic: FundingSourceConformanceMagic,
): void {
  const nextReference = conformanceReferences('fs');
  const options = requestBudget;
  const reserveFrom = (source: string, reference = nextReference()): FundingSourceReserveRequest => ({
    reference,
    raasTxnRef: 'conformance0000000000000',
    clientTxnRef: reference,
    productId: 1,
    productTypeId: 17,
    purchaseAmount: magic.amount,
    reserveAmount: magic.amount,
    feeAmount: { amountMinor: 0n, currency: magic.amount.currency },
    sourceIdentifier: source,
    targetIdentifier: '1000000000',
  });

  describe(`${name}: funding-source conformance`, () => {
    it('reserves once per reference; a repeat answers the same reservation; status agrees', async () => {
      const bank = makeConnector();
      const request = reserveFrom(magic.sourceReserved);
      const first = await bank.reserveFunds(request, options);
      expect(first).toMatchObject({
        status: 'succeeded',
        data: { state: 'reserved', reserveAmount: magic.amount },
      });
      if (first.status === 'succeeded') expect(first.data.reserveFundsTxnRef).not.toBe('');
      expect(await bank.reserveFunds(request, options)).toEqual(first);
      expect(await bank.status({ reference: request.reference }, options)).toEqual(first);
    });

    for (const each of magic.declines) {
      it(`declines source ${each.source} with bank code ${each.rawCode} (${each.declineReason})`, async () => {
        const bank = makeConnector();
        const outcome = await bank.reserveFunds(reserveFrom(each.source), options);
        expect(outcome).toMatchObject({
          status: 'declined',
          rawCode: each.rawCode,
          declineReason: each.declineReason,
        });
      });
    }

    it('confirms a reservation once; confirming again is the same answer; releasing after is declined', async () => {
      const bank = makeConnector();
      const request = reserveFrom(magic.sourceReserved);
      await bank.reserveFunds(request, options);
      const confirmed = await bank.finalize({ reference: request.reference, action: 'confirm' }, options);
      expect(confirmed).toMatchObject({ status: 'succeeded', data: { state: 'confirmed' } });
      expect(await bank.finalize({ reference: request.reference, action: 'confirm' }, options)).toEqual(
        confirmed,
      );
      expect(await bank.finalize({ reference: request.reference, action: 'release' }, options)).toMatchObject(
        {
          status: 'declined',
          declineReason: 'invalid_state',
        },
      );
      expect(await bank.status({ reference: request.reference }, options)).toMatchObject({
        data: { state: 'confirmed' },
      });
    });

    it('releases a reservation', async () => {
      const bank = makeConnector();
      const request = reserveFrom(magic.sourceReserved);
      await bank.reserveFunds(request, options);
      expect(await bank.finalize({ reference: request.reference, action: 'release' }, options)).toMatchObject(
        {
          status: 'succeeded',
          data: { state: 'released' },
        },
      );
    });

    it('answers not_sent to a status lookup or a finalize of a reference it never saw', async () => {
      const bank = makeConnector();
      const reference = nextReference();
      await expectNoTrace(bank, reference);
      expect((await bank.finalize({ reference, action: 'confirm' }, options)).status).toBe('not_sent');
    });

    const lost = magic.sourceAnswerLost;
    it.runIf(lost !== undefined)('resolves a lost answer by status: it was reserved, once', async () => {
      const bank = makeConnector();
      const request = reserveFrom(lost ?? '');
      expect((await bank.reserveFunds(request, options)).status).toBe('unknown');
      expect(await bank.status({ reference: request.reference }, options)).toMatchObject({
        status: 'succeeded',
        data: { state: 'reserved' },
      });
    });

    const refused = magic.sourceNotSent;
    it.runIf(refused !== undefined)('leaves no trace of a not_sent reservation', async () => {
      const bank = makeConnector();
      const request = reserveFrom(refused ?? '');
      expect((await bank.reserveFunds(request, options)).status).toBe('not_sent');
      await expectNoTrace(bank, request.reference);
    });
  });
}
