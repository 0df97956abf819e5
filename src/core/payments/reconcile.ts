import type { CallOptions } from '../../connectors/contracts/call-budget.js';
import type { ConnectorOutcome } from '../../connectors/contracts/outcome.js';
import type { Db } from '../db/db.js';
import { unsettledPayments } from './repo.js';
import { recordOutcome } from './service.js';

/**
 * The janitor (STYLE.md §3, Kill Bill): payments whose connector answer was lost (`unknown`) or that
 * have stayed `pending` too long are settled by asking the connector for the final status of OUR
 * reference (the payment id every product passes as the connector reference). It never repeats the
 * charge: a retry under a new reference could take the money twice.
 */
export interface StatusConnector {
  status(request: { reference: string }, options: CallOptions): Promise<ConnectorOutcome<unknown>>;
}

/** Connectors by id, as configured in this process (sandbox: the simulators). */
export type ConnectorRegistry = ReadonlyMap<string, StatusConnector>;

export const reconcileQueue = 'payments.reconcile';
/** A pending payment older than this is asked about. */
export const pendingStaleSeconds = 60;
/** Payments settled per run; the schedule runs again a minute later. */
export const reconcileBatchMax = 100;
export const statusTimeoutMs = 10_000;

export interface ReconcileReport {
  asked: number;
  settled: number;
  stillOpen: number;
  skipped: number;
}

export async function reconcilePayments(
  db: Db,
  connectors: ConnectorRegistry,
  log: { error(obj: object, msg?: string): void },
): Promise<ReconcileReport> {
  const report: ReconcileReport = { asked: 0, settled: 0, stillOpen: 0, skipped: 0 };
  for (const payment of await unsettledPayments(db, pendingStaleSeconds, reconcileBatchMax)) {
    const connector = connectors.get(payment.connector_id);
    if (!connector) {
      report.skipped++;
      continue;
    }
    report.asked++;
    let outcome: ConnectorOutcome<unknown>;
    try {
      outcome = await connector.status({ reference: payment.id }, { timeoutMs: statusTimeoutMs });
    } catch (error) {
      log.error({ err: error, payment: payment.id }, 'status lookup failed');
      report.stillOpen++;
      continue;
    }
    // Still undecided at the vendor, or the lookup itself was lost: ask again next run.
    if (outcome.status === 'pending' || outcome.status === 'unknown') {
      report.stillOpen++;
      continue;
    }
    // `not_sent` from a status lookup: the vendor has no record of the reference, so nothing was taken.
    await recordOutcome(db, {
      merchantId: payment.merchant_id,
      paymentId: payment.id,
      answer: {
        status: outcome.status === 'not_sent' ? 'not_sent' : outcome.status,
        rawCode: outcome.rawCode,
        rawMessage: outcome.rawMessage,
        connectorRef: outcome.connectorReference,
      },
    });
    report.settled++;
  }
  return report;
}
