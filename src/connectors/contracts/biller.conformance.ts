import { describe, expect, it } from 'vitest';
import { money, type Money } from '../../core/money/money.js';
import type { BillerConnector } from './biller.js';
import {
  conformanceReferences,
  expectNoTrace,
  hangBudgetMsDefault,
  requestBudget,
} from './conformance-kit.js';

/** The inputs that make an implementation show each behaviour (its magic values or vendor test data). */
export interface BillerConformanceMagic {
  readonly productCode: string;
  /** An amount within the product's limits. */
  readonly amount: Money;
  readonly accountValid: string;
  /** Declined `invalid_account` by validation and by vend. */
  readonly accountInvalid: string;
  /** Declined `account_blocked` by validation and by vend. */
  readonly accountBlocked?: string;
  /** Vend `pending`; status settles it (within `statusPollsMax` lookups) as `settlesAs`. */
  readonly vendPending?: { readonly accountNumber: string; readonly settlesAs: 'succeeded' | 'declined' };
  /** Vend answer lost (`unknown`) although the vend happened. */
  readonly vendUnknownButVended?: string;
  /** Vend connection refused (`not_sent`). */
  readonly vendNotSent?: string;
  /** Vend gets no answer until the budget runs out; the vend happened. */
  readonly vendHangs?: string;
  readonly hangBudgetMs?: number;
  readonly statusPollsMax?: number;
}

/** What every biller connector must do, simulators included (STYLE.md §5). */
export function describeBillerConformance(
  name: string,
  makeConnector: () => BillerConnector,
  magic: BillerConformanceMagic,
): void {
  const capabilities = makeConnector().capabilities();
  const product = capabilities.products.find((candidate) => candidate.productCode === magic.productCode);
  const nextReference = conformanceReferences('bil');
  const options = requestBudget;
  const hangBudgetMs = magic.hangBudgetMs ?? hangBudgetMsDefault;
  const statusPollsMax = magic.statusPollsMax ?? 3;
  const { amount, productCode } = magic;
  const vendTo = (accountNumber: string, reference = nextReference()) => ({
    reference,
    accountNumber,
    productCode,
    amount,
  });

  describe(`${name}: biller conformance`, () => {
    it('declares coherent capabilities, including the product under test', () => {
      expect(capabilities.currencies.length).toBeGreaterThan(0);
      expect(product).toBeDefined();
      for (const each of capabilities.products) {
        expect(capabilities.currencies).toContain(each.amountMin.currency);
        expect(each.amountMin.currency).toBe(each.amountMax.currency);
        expect(each.amountMin.amountMinor).toBeGreaterThan(0n);
        expect(each.amountMin.amountMinor).toBeLessThanOrEqual(each.amountMax.amountMinor);
      }
    });

    it('validates an account with its holder name and limits, the same way every time', async () => {
      const biller = makeConnector();
      const request = { accountNumber: magic.accountValid, productCode, amount };
      const outcome = await biller.validateAccount(request, options);
      expect(outcome).toMatchObject({
        status: 'succeeded',
        data: { accountNumber: magic.accountValid, productCode, amountMin: product?.amountMin },
      });
      if (outcome.status === 'succeeded') expect(outcome.data.holderName).not.toBe('');
      expect(await biller.validateAccount(request, options)).toEqual(outcome);
    });

    it('returns an invalid account as a declined value, on validation and on vend', async () => {
      const biller = makeConnector();
      const validation = await biller.validateAccount(
        { accountNumber: magic.accountInvalid, productCode },
        options,
      );
      expect(validation).toMatchObject({ status: 'declined', declineReason: 'invalid_account' });
      expect(validation.rawCode).not.toBe('');
      const request = vendTo(magic.accountInvalid);
      expect(await biller.vend(request, options)).toMatchObject({
        status: 'declined',
        declineReason: 'invalid_account',
      });
      expect(await biller.status({ reference: request.reference }, options)).toMatchObject({
        status: 'declined',
      });
    });

    const blocked = magic.accountBlocked;
    it.runIf(blocked !== undefined)('declines a blocked account as account_blocked', async () => {
      const biller = makeConnector();
      const outcome = await biller.validateAccount({ accountNumber: blocked ?? '', productCode }, options);
      expect(outcome).toMatchObject({ status: 'declined', declineReason: 'account_blocked' });
    });

    it('checks an amount against the product limits: below is invalid_amount, above is limit_exceeded', async () => {
      const biller = makeConnector();
      const currency = amount.currency;
      const below = money((product?.amountMin.amountMinor ?? 1n) - 1n, currency);
      const above = money((product?.amountMax.amountMinor ?? 0n) + 1n, currency);
      if (below.amountMinor > 0n) {
        const outcome = await biller.validateAccount(
          { accountNumber: magic.accountValid, productCode, amount: below },
          options,
        );
        expect(outcome).toMatchObject({ status: 'declined', declineReason: 'invalid_amount' });
      }
      const tooMuch = await biller.vend({ ...vendTo(magic.accountValid), amount: above }, options);
      expect(tooMuch).toMatchObject({ status: 'declined', declineReason: 'limit_exceeded' });
    });

    it('declines a product it does not offer as not_supported', async () => {
      const biller = makeConnector();
      const outcome = await biller.validateAccount(
        { accountNumber: magic.accountValid, productCode: 'NO_SUCH_PRODUCT' },
        options,
      );
      expect(outcome).toMatchObject({ status: 'declined', declineReason: 'not_supported' });
    });

    it('vends once per reference: a repeat gets the same receipt; status agrees', async () => {
      const biller = makeConnector();
      const request = vendTo(magic.accountValid);
      const first = await biller.vend(request, options);
      expect(first).toMatchObject({
        status: 'succeeded',
        data: { accountNumber: magic.accountValid, amount },
      });
      if (first.status === 'succeeded') {
        expect(first.data.receiptNumber).not.toBe('');
        if (product?.kind === 'prepaid_token') expect(first.data.token).toBeTruthy();
      }
      expect(await biller.vend(request, options)).toEqual(first);
      const status = await biller.status({ reference: request.reference }, options);
      expect(status).toMatchObject({ status: 'succeeded' });
      if (status.status === 'succeeded' && first.status === 'succeeded')
        expect(status.data).toEqual(first.data);
    });

    it('answers not_sent to a status lookup of a reference it never saw', async () => {
      await expectNoTrace(makeConnector(), nextReference());
    });

    it('sends nothing when a call is aborted before it starts; the reference stays usable', async () => {
      const biller = makeConnector();
      const aborted = { timeoutMs: 1_000, signal: AbortSignal.abort() };
      const validation = await biller.validateAccount(
        { accountNumber: magic.accountValid, productCode },
        aborted,
      );
      expect(validation.status).toBe('not_sent');
      const request = vendTo(magic.accountValid);
      expect((await biller.vend(request, aborted)).status).toBe('not_sent');
      await expectNoTrace(biller, request.reference);
      expect((await biller.vend(request, options)).status).toBe('succeeded');
    });

    it('rejects a reference reused with other parameters, and the first vend stands', async () => {
      const biller = makeConnector();
      const request = vendTo(magic.accountValid);
      await biller.vend(request, options);
      const other = { ...request, amount: money(amount.amountMinor + 1n, amount.currency) };
      await expect(biller.vend(other, options)).rejects.toThrow(/different parameters/);
      expect(await biller.status({ reference: request.reference }, options)).toMatchObject({
        status: 'succeeded',
        data: { amount },
      });
    });

    const pendingMagic = magic.vendPending;
    it.runIf(pendingMagic !== undefined)(
      'settles a pending vend through status, never by vending again',
      async () => {
        const biller = makeConnector();
        const request = vendTo(pendingMagic?.accountNumber ?? '');
        expect((await biller.vend(request, options)).status).toBe('pending');
        expect((await biller.vend(request, options)).status).toBe('pending');
        let status = await biller.status({ reference: request.reference }, options);
        for (let poll = 1; poll < statusPollsMax && status.status === 'pending'; poll++) {
          status = await biller.status({ reference: request.reference }, options);
        }
        expect(status.status).toBe(pendingMagic?.settlesAs);
      },
    );

    const unknownAccount = magic.vendUnknownButVended;
    it.runIf(unknownAccount !== undefined)(
      'resolves an unknown vend by status: it happened, once',
      async () => {
        const biller = makeConnector();
        const request = vendTo(unknownAccount ?? '');
        const outcome = await biller.vend(request, options);
        expect(outcome.status).toBe('unknown');
        expect(outcome.rawCode).not.toBe('');
        expect(await biller.status({ reference: request.reference }, options)).toMatchObject({
          status: 'succeeded',
          data: { amount },
        });
      },
    );

    const notSentAccount = magic.vendNotSent;
    it.runIf(notSentAccount !== undefined)('leaves no trace of a not_sent vend', async () => {
      const biller = makeConnector();
      const request = vendTo(notSentAccount ?? '');
      expect((await biller.vend(request, options)).status).toBe('not_sent');
      await expectNoTrace(biller, request.reference);
    });

    const hangAccount = magic.vendHangs;
    it.runIf(hangAccount !== undefined)('ends a hanging vend at its time budget as unknown', async () => {
      const biller = makeConnector();
      const request = vendTo(hangAccount ?? '');
      expect((await biller.vend(request, { timeoutMs: hangBudgetMs })).status).toBe('unknown');
      expect((await biller.status({ reference: request.reference }, options)).status).toBe('succeeded');
    });

    it.runIf(hangAccount !== undefined)(
      'ends a hanging vend when the caller aborts, as unknown',
      async () => {
        const biller = makeConnector();
        const controller = new AbortController();
        const call = biller.vend(vendTo(hangAccount ?? ''), { timeoutMs: 60_000, signal: controller.signal });
        controller.abort();
        expect((await call).status).toBe('unknown');
      },
    );
  });
}
