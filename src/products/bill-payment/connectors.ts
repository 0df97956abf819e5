import type { BillerConnector } from '../../connectors/contracts/biller.js';
import type { FundingSourceConnector } from '../../connectors/funding-source/contract.js';
import {
  createFundingSourceSimulator,
  FundingSourceSimulator,
} from '../../connectors/funding-source/simulator/funding-source-simulator.js';
import { sandboxConnectorIds, sandboxConnectors } from '../../connectors/sandbox-connectors.js';

/** The connectors bill payment uses, by connector id (what products and funding sources name). */
export interface BillPaymentConnectors {
  readonly billers: ReadonlyMap<string, BillerConnector>;
  readonly fundingSources: ReadonlyMap<string, FundingSourceConnector>;
}

let fundingSimulator: FundingSourceSimulator | undefined;

/** This process's bank simulator (one instance, shared by the API and the workers of the process). */
export function sandboxFundingSource(): FundingSourceSimulator {
  fundingSimulator ??= createFundingSourceSimulator();
  return fundingSimulator;
}

/** The sandbox registry: the shared biller simulator and the bank simulator. */
export function sandboxBillPaymentConnectors(): BillPaymentConnectors {
  return {
    billers: new Map<string, BillerConnector>([[sandboxConnectorIds.biller, sandboxConnectors().biller]]),
    fundingSources: new Map<string, FundingSourceConnector>([
      [FundingSourceSimulator.id, sandboxFundingSource()],
    ]),
  };
}
