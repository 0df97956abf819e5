import { describe, expect, it } from 'vitest';
import { AppError } from '../../../core/errors/errors.js';
import { money, parseCurrency } from '../../../core/money/money.js';
import { describeFundingSourceConformance } from '../conformance.js';
import { FundingSourceSimulator, createFundingSourceSimulator } from './funding-source-simulator.js';
import { bankCodeReasons, bankDeclineCodes, fundingMagicSources as sources } from './magic-values.js';

const ZAR = parseCurrency('ZAR');

describeFundingSourceConformance('funding-source simulator', () => createFundingSourceSimulator(), {
  amount: money(10_000n, ZAR),
  sourceReserved: sources.reserved,
  declines: bankDeclineCodes.map((code) => ({
    source: `2782000${code}`,
    rawCode: code,
    declineReason: bankCodeReasons[code],
  })),
  sourceAnswerLost: sources.answerLost,
  sourceNotSent: sources.notSent,
});

describe('funding-source simulator', () => {
  it('has a static id and an empty config', () => {
    expect(FundingSourceSimulator.id).toBe('funding-source-simulator');
    expect(() => FundingSourceSimulator.create({ extra: 1 })).toThrow(AppError);
  });

  it('decides by accountIdentifier when one is given', async () => {
    const bank = createFundingSourceSimulator();
    const outcome = await bank.reserveFunds(
      {
        reference: 'r1',
        raasTxnRef: 'abc',
        clientTxnRef: 'c1',
        productId: 1,
        productTypeId: 17,
        purchaseAmount: money(100n, ZAR),
        reserveAmount: money(100n, ZAR),
        feeAmount: money(0n, ZAR),
        sourceIdentifier: sources.reserved,
        targetIdentifier: '1000000000',
        accountIdentifier: sources.insufficientFunds,
      },
      { timeoutMs: 1_000 },
    );
    expect(outcome).toMatchObject({ status: 'declined', rawCode: '2010' });
  });
});
