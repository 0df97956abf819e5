import { Type, type Static } from 'typebox';
import { assert } from '../../../core/errors/errors.js';
import { money, parseCurrency, type Currency, type Money } from '../../../core/money/money.js';
import type {
  BillerAccount,
  BillerCapabilities,
  BillerConnector,
  BillerProduct,
  BillerValidateAccountRequest,
  BillerVend,
  BillerVendRequest,
} from '../../contracts/biller.js';
import type { CallOptions } from '../../contracts/call-budget.js';
import {
  parseConnectorConfig,
  type ConnectorDefinition,
  type StatusRequest,
} from '../../contracts/connector.js';
import { declined, succeeded, type ConnectorOutcome, type DeclineReason } from '../../contracts/outcome.js';
import {
  SimulatedVendor,
  SimulatorScript,
  decline,
  fingerprintOf,
  lookupScriptableOutcomes,
  scriptedOutcomes,
  stableDigits,
  stableHash,
  type SimulatedDecline,
} from '../../contracts/simulator.js';
import {
  billerAccountDecline,
  billerArrearsMinor,
  billerHighMinimumMinor,
  billerDeclineRaw,
  billerRawCodes,
  billerSimulatorProducts,
  billerVendBehaviour,
} from './magic-values.js';

export const BillerSimulatorConfigSchema = Type.Object(
  { currency: Type.String({ pattern: '^[A-Z]{3}$' }) },
  { additionalProperties: false },
);
export type BillerSimulatorConfigInput = Static<typeof BillerSimulatorConfigSchema>;

/** Payd is South African: rand by default. */
export const billerSimulatorDefaultConfig: BillerSimulatorConfigInput = { currency: 'ZAR' };

export type BillerOperation = 'validateAccount' | 'vend' | 'status';

/** Account, meter and smart-card numbers: Payd's `targetIdentifier` allows up to 32 characters. */
const accountNumberPattern = /^[0-9]{6,32}$/;
const receiptDigits = 12;
const electricityTokenDigits = 20;

const holderFirstNames = ['Thandiwe', 'Sipho', 'Naledi', 'Pieter', 'Ayesha', 'Lerato', 'Johan', 'Zanele'];
const holderLastNames = ['Mokoena', 'Van der Merwe', 'Naidoo', 'Dlamini', 'Botha', 'Khumalo', 'Pillay'];
const districts = ['Soweto', 'Khayelitsha', 'Umlazi', 'Tembisa', 'Mitchells Plain', 'Soshanguve'];
const streets = ['Main Road', 'Church Street', 'Vilakazi Street', 'Long Street', 'Voortrekker Road'];
/** Simulated electricity price: 2.50 per kWh in the simulator's currency. */
const electricityMinorPerKwh = 250n;
const voucherPinDigits = 16;
const voucherSerialDigits = 12;

interface VendRecordData {
  readonly accountNumber: string;
  readonly productCode: string;
  readonly amount: Money;
  readonly receiptNumber: string;
  readonly token: string | undefined;
  readonly serialNumber: string | undefined;
  readonly units: string | undefined;
}

/**
 * A deterministic biller (see `magic-values.ts` and `src/connectors/README.md`). Validation is
 * read-only; vends are remembered by our reference, so a repeat never vends twice and `status()` knows
 * the truth behind a lost answer.
 */
export class BillerSimulator implements BillerConnector {
  static readonly id = 'biller-simulator';
  static readonly configSchema = BillerSimulatorConfigSchema;

  static create(config: unknown): BillerSimulator {
    const input = parseConnectorConfig(BillerSimulator.id, BillerSimulatorConfigSchema, config);
    return new BillerSimulator(parseCurrency(input.currency, '/currency'));
  }

  readonly id = BillerSimulator.id;
  readonly script = new SimulatorScript<BillerOperation>({
    untargeted: ['vend'],
    allowed: {
      validateAccount: ['declined', ...lookupScriptableOutcomes],
      vend: scriptedOutcomes,
      status: lookupScriptableOutcomes,
    },
  });
  readonly #currency: Currency;
  readonly #products: readonly BillerProduct[];
  readonly #vendor: SimulatedVendor<BillerOperation, VendRecordData>;

  constructor(currency: Currency) {
    this.#currency = currency;
    this.#products = billerSimulatorProducts.map((product) => ({
      productCode: product.productCode,
      name: product.name,
      kind: product.kind,
      amountMin: money(product.amountMinMinor, currency),
      amountMax: money(product.amountMaxMinor, currency),
    }));
    this.#vendor = new SimulatedVendor({
      connectorReferencePrefix: 'simbil',
      succeeded: billerRawCodes.success,
      pending: billerRawCodes.processing,
      notFound: billerRawCodes.notFound,
      declineRaw: billerDeclineRaw,
      defaultDeclineReason: 'do_not_honor',
      script: this.script,
    });
  }

  capabilities(): BillerCapabilities {
    return { currencies: [this.#currency], products: this.#products };
  }

  async validateAccount(
    request: BillerValidateAccountRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<BillerAccount>> {
    if (request.amount) assertPositive(request.amount);
    return this.#vendor.query('validateAccount', options, () => {
      const product = this.#product(request.productCode);
      const refusal =
        this.#accountRefusal(request.accountNumber, product) ??
        (request.amount && product
          ? this.#amountRefusal(request.amount, product, request.accountNumber)
          : undefined);
      if (refusal) return declined(refusal.declineReason, refusal);
      assert(product, 'a product passed the refusal checks');
      return succeeded(this.#account(request.accountNumber, product), billerRawCodes.success);
    });
  }

  async vend(request: BillerVendRequest, options: CallOptions): Promise<ConnectorOutcome<BillerVend>> {
    assertPositive(request.amount);
    const product = this.#product(request.productCode);
    return this.#vendor.perform({
      operation: 'vend',
      reference: request.reference,
      fingerprint: fingerprintOf({
        accountNumber: request.accountNumber,
        productCode: request.productCode,
        amountMinor: request.amount.amountMinor,
        currency: request.amount.currency,
      }),
      options,
      magic: billerVendBehaviour(request.accountNumber),
      refusal: () =>
        this.#accountRefusal(request.accountNumber, product) ??
        (product ? this.#amountRefusal(request.amount, product, request.accountNumber) : undefined),
      data: {
        accountNumber: request.accountNumber,
        productCode: request.productCode,
        amount: request.amount,
        receiptNumber: `RCP${stableDigits(`receipt:${request.reference}`, receiptDigits)}`,
        token:
          product?.kind === 'prepaid_token'
            ? stableDigits(`token:${request.reference}:${request.accountNumber}`, electricityTokenDigits)
            : product?.kind === 'voucher'
              ? stableDigits(`pin:${request.reference}:${request.accountNumber}`, voucherPinDigits)
              : undefined,
        serialNumber:
          product?.kind === 'voucher'
            ? `SN${stableDigits(`serial:${request.reference}`, voucherSerialDigits)}`
            : undefined,
        units: product?.kind === 'prepaid_token' ? kwhOf(request.amount.amountMinor) : undefined,
      },
      present: (record) => vendOf(record.data),
    });
  }

  async status(request: StatusRequest, options: CallOptions): Promise<ConnectorOutcome<BillerVend>> {
    return this.#vendor.lookup('status', request.reference, options, (record) => vendOf(record.data));
  }

  /** Decides a pending vend now, as the biller's back office would. False when there is nothing to decide. */
  settle(reference: string, outcome: 'succeeded' | 'declined', declineReason?: DeclineReason): boolean {
    if (outcome === 'succeeded') return this.#vendor.settle(reference, { status: 'succeeded' });
    const reason = declineReason ?? 'do_not_honor';
    return this.#vendor.settle(reference, decline(reason, billerDeclineRaw(reason)));
  }

  /** How many vends the biller remembers (declined ones included). */
  get recordCount(): number {
    return this.#vendor.recordCount;
  }

  reset(): void {
    this.#vendor.reset();
  }

  #product(productCode: string): BillerProduct | undefined {
    return this.#products.find((product) => product.productCode === productCode);
  }

  #accountRefusal(accountNumber: string, product: BillerProduct | undefined): SimulatedDecline | undefined {
    if (!product) return decline('not_supported', billerRawCodes.serviceNotFound);
    if (!accountNumberPattern.test(accountNumber))
      return decline('invalid_account', billerRawCodes.accountNotMapped);
    return billerAccountDecline(accountNumber);
  }

  #amountRefusal(amount: Money, product: BillerProduct, accountNumber: string): SimulatedDecline | undefined {
    if (amount.currency !== this.#currency) return decline('invalid_amount', billerRawCodes.invalidFormat);
    if (amount.amountMinor < this.#accountMinimum(accountNumber, product)) {
      return decline('invalid_amount', billerRawCodes.belowMinimum);
    }
    if (amount.amountMinor > product.amountMax.amountMinor) {
      return decline('limit_exceeded', billerRawCodes.maxAmountExceeded);
    }
    return undefined;
  }

  /** The account's own minimum purchase: its arrears, the `…0011` account's high minimum, else the product's. */
  #accountMinimum(accountNumber: string, product: BillerProduct): bigint {
    const suffix = accountNumber.slice(-4);
    if (suffix === '0010') return maxOf(product.amountMin.amountMinor, billerArrearsMinor);
    if (suffix === '0011') return maxOf(product.amountMin.amountMinor, billerHighMinimumMinor);
    return product.amountMin.amountMinor;
  }

  #account(accountNumber: string, product: BillerProduct): BillerAccount {
    const hash = stableHash(accountNumber);
    const firstName = holderFirstNames[hash % holderFirstNames.length] ?? 'A.';
    const lastName =
      holderLastNames[Math.floor(hash / holderFirstNames.length) % holderLastNames.length] ?? 'Holder';
    const district = districts[hash % districts.length] ?? 'Central';
    const street = streets[Math.floor(hash / 7) % streets.length] ?? 'Main Road';
    const arrears = accountNumber.endsWith('0010') ? billerArrearsMinor : 0n;
    const account: BillerAccount = {
      accountNumber,
      productCode: product.productCode,
      holderName: `${firstName} ${lastName}`,
      amountMin: money(this.#accountMinimum(accountNumber, product), this.#currency),
      amountMax: product.amountMax,
      customer: {
        address: `${1 + (hash % 199)} ${street}, ${district}`,
        phone: `27${stableDigits(`phone:${accountNumber}`, 9)}`,
        district,
      },
      arrears: money(arrears, this.#currency),
      ...(product.kind === 'prepaid_token' ? { tariff: 'Residential', meterNumber: accountNumber } : {}),
    };
    if (product.kind !== 'postpaid_bill') return account;
    // Between 50.00 and 999.99 in a two-decimal currency: a plausible monthly bill, always the same.
    const balanceDueMinor = 5_000n + BigInt(hash % 95_000);
    return { ...account, balanceDue: money(balanceDueMinor, this.#currency) };
  }
}

export const billerSimulatorDefinition: ConnectorDefinition<BillerSimulator> = BillerSimulator;

export function createBillerSimulator(
  config: BillerSimulatorConfigInput = billerSimulatorDefaultConfig,
): BillerSimulator {
  return BillerSimulator.create(config);
}

function vendOf(data: VendRecordData): BillerVend {
  return {
    accountNumber: data.accountNumber,
    productCode: data.productCode,
    amount: data.amount,
    receiptNumber: data.receiptNumber,
    ...(data.token === undefined ? {} : { token: data.token }),
    ...(data.serialNumber === undefined ? {} : { serialNumber: data.serialNumber }),
    ...(data.units === undefined ? {} : { units: data.units }),
  };
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** Units for an electricity vend at the simulated price, one decimal, rounded down (a meter never gets more). */
function kwhOf(amountMinor: bigint): string {
  const tenths = (amountMinor * 10n) / electricityMinorPerKwh;
  return `${tenths / 10n}.${tenths % 10n} kWh`;
}

function assertPositive(amount: Money): void {
  assert(amount.amountMinor > 0n, `amount must be positive, got ${amount.amountMinor}`);
}
