import { createBillerSimulator, type BillerSimulator } from './biller/simulator/biller-simulator.js';
import {
  createCardAcquirerSimulator,
  type CardAcquirerSimulator,
} from './card-acquirer/simulator/card-acquirer-simulator.js';
import { createCarrierSimulator, type CarrierSimulator } from './carrier/simulator/carrier-simulator.js';
import {
  createPayerWalletSimulator,
  type PayerWalletSimulator,
} from './payer-wallet/simulator/payer-wallet-simulator.js';

/**
 * The simulators the sandbox uses, one instance of each per process, shared by every product and by
 * the reconciliation job of that process (simulators remember what they were asked by reference).
 * Registry ids are what payments record as `connector_id`.
 */
export interface SandboxConnectors {
  readonly carrier: CarrierSimulator;
  readonly carrierWithoutRefunds: CarrierSimulator;
  readonly biller: BillerSimulator;
  readonly cardAcquirer: CardAcquirerSimulator;
  readonly payerWallet: PayerWalletSimulator;
  /** By connector id. */
  readonly byId: ReadonlyMap<
    string,
    CarrierSimulator | BillerSimulator | CardAcquirerSimulator | PayerWalletSimulator
  >;
}

export const sandboxConnectorIds = {
  carrier: 'carrier-simulator',
  carrierWithoutRefunds: 'carrier-simulator-no-refunds',
  biller: 'biller-simulator',
  cardAcquirer: 'card-acquirer-simulator',
  payerWallet: 'payer-wallet-simulator',
} as const;

let instance: SandboxConnectors | undefined;

export function sandboxConnectors(): SandboxConnectors {
  if (instance) return instance;
  const carrier = createCarrierSimulator('ukWithRefunds');
  const carrierWithoutRefunds = createCarrierSimulator('ukWithoutRefunds');
  const biller = createBillerSimulator();
  const cardAcquirer = createCardAcquirerSimulator();
  const payerWallet = createPayerWalletSimulator();
  instance = {
    carrier,
    carrierWithoutRefunds,
    biller,
    cardAcquirer,
    payerWallet,
    byId: new Map<string, CarrierSimulator | BillerSimulator | CardAcquirerSimulator | PayerWalletSimulator>([
      [sandboxConnectorIds.carrier, carrier],
      [sandboxConnectorIds.carrierWithoutRefunds, carrierWithoutRefunds],
      [sandboxConnectorIds.biller, biller],
      [sandboxConnectorIds.cardAcquirer, cardAcquirer],
      [sandboxConnectorIds.payerWallet, payerWallet],
    ]),
  };
  return instance;
}
