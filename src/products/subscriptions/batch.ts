import { randomInt, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { ConnectorOutcome } from '../../connectors/contracts/outcome.js';
import { transaction, type Executor, type Tx } from '../../core/db/db.js';
import type { Environment } from '../../core/db/schema.js';
import { deliverQueue } from '../../core/events/events.js';
import { newId } from '../../core/ids/ids.js';
import { accountShards } from '../../core/ledger/ledger.js';
import type { PaymentRow } from '../../core/payments/repo.js';
import { paymentView } from '../../core/payments/service.js';
import {
  applyOutcome,
  callAcquirer,
  chargeClaimed,
  chargeQueueClock,
  cycleView,
  noRetryReasons,
  productConnectorId,
  reconcileAfterSeconds,
  reconcileQueue,
  type BillingDeps,
  type CycleRow,
  type TxRow,
} from './billing.js';
import { newSpId } from './dialect.js';
import { spEventPrefix, type SpEventType, type SpObjectType, type SpOrigin } from './events.js';
import { brandName, shortCardNumber, subscriptionView, termsOf, type SubscriptionRow } from './objects.js';
import { cyclePlan, type Unit } from './schedule.js';

/**
 * The set-based charge path for a claimed batch of due cycles (docs/adr/0012): one transaction of a
 * few statements prepares every attempt (payments, transitions, attempt rows, events), the acquirer is
 * called for each outside any transaction, and one transaction of a few statements records every
 * outcome (payments, ledger, cycles, subscriptions, next cycles, events). The per-row path
 * (`chargeClaimed`, `applyOutcome`) handles the rare cases (attempts in flight after a crash, no card,
 * nothing to charge, paused subscriptions) and takes over if a batch write fails.
 */
interface Loaded {
  merchant_id: string;
  environment: Environment;
  id: string;
  subscription_id: string;
  cycle_no: number;
  attempts: number;
  amount_minor: string;
  currency: string;
  test_clock_id: string | null;
  sub_status: string;
  customer_account_id: string;
  balance_minor: string;
  billing_agreement_id: string | null;
  card_id: string | null;
  connector_token: string | null;
  ntid: string | null;
  brand: string | null;
  first6: string | null;
  last4: string | null;
  exp_month: number | null;
  exp_year: number | null;
  in_flight: boolean;
}

interface PendingEvent {
  merchantId: string;
  environment: Environment;
  type: string;
  objectId: string;
  data: Record<string, unknown>;
  testClockId: string | null;
}

const json = (value: unknown) =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

function spData(
  eventType: SpEventType,
  origin: SpOrigin,
  objectType: SpObjectType,
  objectId: string,
  status: string | null,
  data: Record<string, unknown>,
): Record<string, unknown> {
  return {
    id: `event-${randomUUID()}`,
    sourceSystem: 'subscription-module',
    origin,
    eventType,
    objectId,
    objectType,
    ...(status !== null ? { status } : {}),
    data,
  };
}

/** Many events and their webhook fan-out in one statement (the set form of core `recordEvent`). */
async function recordEvents(tx: Executor, events: PendingEvent[]): Promise<void> {
  if (events.length === 0) return;
  const ids = events.map(() => newId('event'));
  await sql`
    WITH input AS (
      SELECT * FROM unnest(${events.map((e) => e.merchantId)}::text[], ${events.map((e) => e.environment)}::text[],
                           ${ids}::text[], ${events.map((e) => e.type)}::text[], ${events.map((e) => e.objectId)}::text[],
                           ${events.map((e) => json(e.data))}::text[], ${events.map((e) => e.testClockId)}::text[])
        AS i(merchant_id, environment, id, type, object_id, data, clock)
    ), ev AS (
      INSERT INTO events (merchant_id, environment, id, type, object_id, data)
      SELECT merchant_id, environment, id, type, object_id, data::jsonb FROM input
    ), d AS (
      INSERT INTO webhook_deliveries (merchant_id, id, environment, endpoint_id, event_id, test_clock_id)
      SELECT e.merchant_id, 'whd_' || substr(i.id, 5) || substr(e.id, 4), e.environment, e.id, i.id, i.clock
        FROM input i JOIN webhook_endpoints e ON e.merchant_id = i.merchant_id AND e.environment = i.environment
       WHERE e.enabled AND (cardinality(e.event_types) = 0 OR i.type = ANY(e.event_types))
         AND (e.product IS NULL OR e.product = 'subscriptions')
      RETURNING merchant_id, id, environment, test_clock_id
    )
    INSERT INTO jobs (queue, payload, merchant_id, environment, test_clock_id, run_at)
    SELECT ${deliverQueue}, jsonb_build_object('merchantId', merchant_id, 'deliveryId', id), merchant_id, environment,
           test_clock_id, coalesce((SELECT frozen_time FROM test_clocks c WHERE c.id = d.test_clock_id), now())
      FROM d`.execute(tx);
}

function paymentEvent(row: PaymentRow): PendingEvent {
  return {
    merchantId: row.merchant_id,
    environment: row.environment,
    type: `payment.${row.status === 'pending' ? 'created' : row.status}`,
    objectId: row.id,
    data: paymentView(row),
    testClockId: row.test_clock_id,
  };
}

function spEventOf(
  row: { merchant_id: string; environment: Environment; test_clock_id: string | null },
  eventType: SpEventType,
  objectType: SpObjectType,
  objectId: string,
  status: string | null,
  data: Record<string, unknown>,
): PendingEvent {
  return {
    merchantId: row.merchant_id,
    environment: row.environment,
    type: `${spEventPrefix}${eventType}`,
    objectId,
    data: spData(eventType, 'automated', objectType, objectId, status, data),
    testClockId: row.test_clock_id,
  };
}

interface Prepared {
  t: TxRow;
  payment: PaymentRow;
  cardToken: string;
  ntid: string;
  card: { exp_month: number; exp_year: number; card_id: string };
}

async function prepareBatch(
  tx: Tx,
  claimed: readonly { merchant_id: string; environment: Environment; id: string }[],
): Promise<{ prepared: Prepared[]; leftovers: string[] }> {
  const { rows } = await sql<Loaded>`
    SELECT c.merchant_id, c.environment, c.id, c.subscription_id, c.cycle_no, c.attempts, c.amount_minor, c.currency,
           c.test_clock_id, s.status AS sub_status, s.customer_account_id, s.balance_minor, s.billing_agreement_id,
           v.id AS card_id, v.connector_token, v.network_transaction_id AS ntid, v.brand, v.first6, v.last4,
           v.exp_month, v.exp_year,
           EXISTS (SELECT 1 FROM sp_transactions t WHERE t.billing_cycle_id = c.id AND t.attempt_no = c.attempts
                      AND t.status IN ('pending', 'unknown')) AS in_flight
      FROM sp_billing_cycles c
      JOIN sp_subscriptions s ON s.merchant_id = c.merchant_id AND s.environment = c.environment AND s.id = c.subscription_id
      LEFT JOIN sp_billing_agreements a ON a.merchant_id = s.merchant_id AND a.environment = s.environment
            AND a.id = s.billing_agreement_id AND a.status = 'active'
      LEFT JOIN vault_cards v ON v.merchant_id = a.merchant_id AND v.environment = a.environment AND v.id = a.card_id
     WHERE c.id = ANY(${claimed.map((c) => c.id)}::text[]) AND c.status = 'Processing'
     ORDER BY c.id
       FOR UPDATE OF c, s`.execute(tx);
  const normal: Array<Loaded & { attemptNo: number; amount: bigint; paymentId: string; txId: string }> = [];
  const leftovers: string[] = [];
  for (const row of rows) {
    const amount = BigInt(row.amount_minor) + BigInt(row.balance_minor);
    if (row.sub_status !== 'active' || row.in_flight || !row.ntid || !row.connector_token || amount === 0n) {
      leftovers.push(row.id);
      continue;
    }
    normal.push({
      ...row,
      attemptNo: row.attempts + 1,
      amount,
      paymentId: newId('payment'),
      txId: newSpId('transaction'),
    });
  }
  if (normal.length === 0) return { prepared: [], leftovers };
  const col = <T>(pick: (r: (typeof normal)[number]) => T) => normal.map(pick);
  const { rows: payments } = await sql<PaymentRow>`
    INSERT INTO payments (merchant_id, id, environment, product, kind, status, amount_minor, currency, payer_ref, connector_id,
                          reference, description, test_clock_id, metadata)
    SELECT m, id, env, 'subscriptions', 'sale', 'pending', amount, currency, payer, ${productConnectorId}, ref, descr, clock,
           jsonb_build_object('subscription_id', sub, 'billing_cycle_id', cycle, 'attempt', attempt)
      FROM unnest(${col((r) => r.merchant_id)}::text[], ${col((r) => r.paymentId)}::text[], ${col((r) => r.environment)}::text[],
                  ${col((r) => String(r.amount))}::bigint[], ${col((r) => r.currency)}::text[],
                  ${col((r) => r.customer_account_id)}::text[], ${col((r) => `${r.id}#${r.attemptNo}`)}::text[],
                  ${col((r) => `${r.subscription_id} cycle ${r.cycle_no + 1}`)}::text[], ${col((r) => r.test_clock_id)}::text[],
                  ${col((r) => r.subscription_id)}::text[], ${col((r) => r.id)}::text[], ${col((r) => r.attemptNo)}::int[])
        AS u(m, id, env, amount, currency, payer, ref, descr, clock, sub, cycle, attempt)
    RETURNING *`.execute(tx);
  await sql`
    INSERT INTO payment_transitions (merchant_id, payment_id, seq, from_status, to_status, event, amount_minor)
    SELECT m, id, 1, NULL, 'pending', 'created', amount
      FROM unnest(${col((r) => r.merchant_id)}::text[], ${col((r) => r.paymentId)}::text[], ${col((r) => String(r.amount))}::bigint[])
        AS u(m, id, amount)`.execute(tx);
  await sql`
    UPDATE sp_billing_cycles c SET attempts = u.attempts, billing_agreement_id = u.ba, short_card_number = u.scn,
           billing_agreement_name = u.ban, updated_at = now()
      FROM unnest(${col((r) => r.merchant_id)}::text[], ${col((r) => r.id)}::text[], ${col((r) => r.attemptNo)}::int[],
                  ${col((r) => r.billing_agreement_id)}::text[], ${col((r) => shortCardNumber(r.first6, r.last4))}::text[],
                  ${col((r) => brandName(r.brand))}::text[]) AS u(m, id, attempts, ba, scn, ban)
     WHERE c.merchant_id = u.m AND c.id = u.id`.execute(tx);
  const withBalance = normal.filter((r) => BigInt(r.balance_minor) > 0n);
  if (withBalance.length > 0) {
    await sql`UPDATE sp_subscriptions SET balance_minor = 0
               WHERE id = ANY(${withBalance.map((r) => r.subscription_id)}::text[])`.execute(tx);
  }
  const { rows: txs } = await sql<TxRow>`
    INSERT INTO sp_transactions (merchant_id, environment, id, kind, subscription_id, billing_cycle_id, attempt_no, payment_id,
      amount_minor, balance_part_minor, currency, status, card_id, billing_agreement_id, test_clock_id)
    SELECT m, env, id, CASE WHEN attempt = 1 THEN 'scheduled' ELSE 'retry' END, sub, cycle, attempt, pay, amount, balance,
           currency, 'pending', card, ba, clock
      FROM unnest(${col((r) => r.merchant_id)}::text[], ${col((r) => r.environment)}::text[], ${col((r) => r.txId)}::text[],
                  ${col((r) => r.subscription_id)}::text[], ${col((r) => r.id)}::text[], ${col((r) => r.attemptNo)}::int[],
                  ${col((r) => r.paymentId)}::text[], ${col((r) => String(r.amount))}::bigint[],
                  ${col((r) => r.balance_minor)}::bigint[], ${col((r) => r.currency)}::text[], ${col((r) => r.card_id)}::text[],
                  ${col((r) => r.billing_agreement_id)}::text[], ${col((r) => r.test_clock_id)}::text[])
        AS u(m, env, id, sub, cycle, attempt, pay, amount, balance, currency, card, ba, clock)
    RETURNING *`.execute(tx);
  await recordEvents(tx, payments.map(paymentEvent));
  const paymentById = new Map(payments.map((p) => [p.id, p]));
  const byCycle = new Map(normal.map((r) => [r.id, r]));
  const prepared: Prepared[] = [];
  for (const t of txs) {
    const row = byCycle.get(t.billing_cycle_id ?? '');
    const payment = paymentById.get(t.payment_id);
    if (!row || !payment) continue;
    prepared.push({
      t,
      payment,
      cardToken: row.connector_token ?? '',
      ntid: row.ntid ?? '',
      card: { exp_month: row.exp_month ?? 12, exp_year: row.exp_year ?? 9999, card_id: row.card_id ?? '' },
    });
  }
  return { prepared, leftovers };
}

interface Outcome {
  p: Prepared;
  outcome: ConnectorOutcome<unknown>;
}

function txStatus(outcome: ConnectorOutcome<unknown>): TxRow['status'] {
  switch (outcome.status) {
    case 'succeeded':
      return 'captured';
    case 'declined':
      return 'declined';
    case 'not_sent':
      return 'error';
    default:
      return 'unknown';
  }
}

function paymentStatus(outcome: ConnectorOutcome<unknown>): PaymentRow['status'] {
  if (outcome.status === 'succeeded') return 'succeeded';
  if (outcome.status === 'declined' || outcome.status === 'not_sent') return 'failed';
  return 'unknown';
}

async function applyBatch(tx: Tx, items: Outcome[], at: Date): Promise<void> {
  const events: PendingEvent[] = [];
  const col = <T>(list: Outcome[], pick: (o: Outcome) => T) => list.map(pick);
  const { rows: updatedTxs } = await sql<TxRow>`
    UPDATE sp_transactions t SET status = u.status, decline_reason = u.reason, raw_code = u.raw, updated_at = now()
      FROM unnest(${col(items, (o) => o.p.t.merchant_id)}::text[], ${col(items, (o) => o.p.t.id)}::text[],
                  ${col(items, (o) => txStatus(o.outcome))}::text[],
                  ${col(items, (o) => (o.outcome.status === 'declined' ? o.outcome.declineReason : null))}::text[],
                  ${col(items, (o) => o.outcome.rawCode)}::text[]) AS u(m, id, status, reason, raw)
     WHERE t.merchant_id = u.m AND t.id = u.id AND t.status IN ('pending', 'unknown')
    RETURNING t.*`.execute(tx);
  const live = new Set(updatedTxs.map((t) => t.id));
  const current = items.filter((o) => live.has(o.p.t.id));
  if (current.length === 0) return;
  const txById = new Map(updatedTxs.map((t) => [t.id, t]));

  // Payments: their outcome, transition, event and (captured) ledger posting.
  const { rows: payments } = await sql<PaymentRow>`
    UPDATE payments p SET status = u.status, raw_code = u.raw, raw_message = u.msg,
           connector_ref = coalesce(u.cref, p.connector_ref),
           captured_minor = CASE WHEN u.status = 'succeeded' THEN p.amount_minor ELSE p.captured_minor END, updated_at = now()
      FROM unnest(${col(current, (o) => o.p.payment.merchant_id)}::text[], ${col(current, (o) => o.p.payment.id)}::text[],
                  ${col(current, (o) => paymentStatus(o.outcome))}::text[], ${col(current, (o) => o.outcome.rawCode)}::text[],
                  ${col(current, (o) => o.outcome.rawMessage?.slice(0, 500) ?? null)}::text[],
                  ${col(current, (o) => o.outcome.connectorReference ?? null)}::text[]) AS u(m, id, status, raw, msg, cref)
     WHERE p.merchant_id = u.m AND p.id = u.id AND p.status = 'pending'
    RETURNING p.*`.execute(tx);
  if (payments.length > 0) {
    await sql`
      INSERT INTO payment_transitions (merchant_id, payment_id, seq, from_status, to_status, event, amount_minor, raw_code)
      SELECT m, id, 2, 'pending', status, event, amount, raw
        FROM unnest(${payments.map((p) => p.merchant_id)}::text[], ${payments.map((p) => p.id)}::text[],
                    ${payments.map((p) => p.status)}::text[],
                    ${payments.map((p) => current.find((o) => o.p.payment.id === p.id)?.outcome.status ?? 'unknown')}::text[],
                    ${payments.map((p) => String(p.amount_minor))}::bigint[], ${payments.map((p) => p.raw_code)}::text[])
          AS u(m, id, status, event, amount, raw)`.execute(tx);
    events.push(...payments.map(paymentEvent));
  }
  const captured = payments.filter((p) => p.status === 'succeeded');
  if (captured.length > 0) {
    const ltx = captured.map(() => newId('ledgerTransaction'));
    await sql`
      WITH t AS (
        INSERT INTO ledger_transactions (merchant_id, environment, id, payment_id, kind)
        SELECT m, env, id, pay, 'sale' FROM unnest(${captured.map((p) => p.merchant_id)}::text[],
               ${captured.map((p) => p.environment)}::text[], ${ltx}::text[], ${captured.map((p) => p.id)}::text[]) AS u(m, env, id, pay)
      ), x AS (
        SELECT m, env, id, currency, amount FROM unnest(${captured.map((p) => p.merchant_id)}::text[],
               ${captured.map((p) => p.environment)}::text[], ${ltx}::text[], ${captured.map((p) => p.currency)}::text[],
               ${captured.map((p) => String(p.amount_minor))}::bigint[]) AS u(m, env, id, currency, amount)
      ), e AS (
        INSERT INTO ledger_entries (merchant_id, transaction_id, entry_no, environment, currency, role, debit_minor, credit_minor)
        SELECT m, id, 1, env, currency, 'connector_receivable', amount, 0 FROM x
        UNION ALL
        SELECT m, id, 2, env, currency, 'merchant_payable', 0, amount FROM x
      )
      INSERT INTO ledger_accounts AS a (merchant_id, environment, currency, role, shard, debits_minor, credits_minor)
      SELECT m, env, currency, role, ${randomInt(accountShards)}, sum(d), sum(c) FROM (
        SELECT m, env, currency, 'connector_receivable' AS role, amount AS d, 0::bigint AS c FROM x
        UNION ALL
        SELECT m, env, currency, 'merchant_payable', 0::bigint, amount FROM x) y
       GROUP BY m, env, currency, role
      ON CONFLICT (merchant_id, environment, currency, role, shard) DO UPDATE
        SET debits_minor = a.debits_minor + excluded.debits_minor, credits_minor = a.credits_minor + excluded.credits_minor`.execute(
      tx,
    );
  }

  // Cycles: captured, retrying, failed / error, or waiting for reconciliation.
  const delays = await delaysFor(tx, current);
  const cycleUpdates: Array<{
    o: Outcome;
    status: string;
    next: Date | null;
    subDec: number;
    subAdd: bigint;
  }> = [];
  const unknowns: Outcome[] = [];
  for (const o of current) {
    const t = txById.get(o.p.t.id) ?? o.p.t;
    const balancePart = BigInt(t.balance_part_minor);
    const s = txStatus(o.outcome);
    if (s === 'captured') {
      cycleUpdates.push({ o, status: 'Captured', next: null, subDec: 1, subAdd: 0n });
    } else if (s === 'unknown') {
      unknowns.push(o);
    } else {
      const reason = o.outcome.status === 'declined' ? o.outcome.declineReason : undefined;
      const policy = delays.get(`${t.merchant_id}|${t.environment}`) ?? [1, 3, 7];
      const attempt = t.attempt_no ?? 1;
      const retryable = reason === undefined || !noRetryReasons.has(reason);
      if (retryable && attempt <= policy.length) {
        const chargeAt = (await chargeAtOf(tx, t)).getTime();
        const next = new Date(Math.max(chargeAt + (policy[attempt - 1] ?? 1) * 86_400_000, at.getTime()));
        cycleUpdates.push({ o, status: 'Retrying', next, subDec: 0, subAdd: balancePart });
      } else {
        const amount = BigInt(t.amount_minor) - balancePart;
        cycleUpdates.push({
          o,
          status: s === 'declined' ? 'Failed' : 'Error',
          next: null,
          subDec: 0,
          subAdd: amount + balancePart,
        });
      }
    }
  }
  // Balance collected by a capture: the failed cycles it paid for are marked (rare, per row).
  for (const u of cycleUpdates) {
    const t = u.o.p.t;
    if (u.status === 'Captured' && BigInt(t.balance_part_minor) > 0n) {
      const { rows } = await sql<{ id: string }>`
        UPDATE sp_billing_cycles SET collected_by = ${t.id}, updated_at = now()
         WHERE merchant_id = ${t.merchant_id} AND subscription_id = ${t.subscription_id} AND status IN ('Failed', 'Error')
           AND collected_by IS NULL AND id <> ${t.billing_cycle_id}
        RETURNING id`.execute(tx);
      u.subDec += rows.length;
    }
  }
  let cycles: CycleRow[] = [];
  if (cycleUpdates.length > 0) {
    const result = await sql<CycleRow>`
      UPDATE sp_billing_cycles c SET status = u.status, next_attempt_at = u.next,
             paid_at = CASE WHEN u.status = 'Captured' THEN ${at.toISOString()}::timestamptz ELSE c.paid_at END,
             locked_until = NULL, updated_at = now()
        FROM unnest(${cycleUpdates.map((u) => u.o.p.t.merchant_id)}::text[], ${cycleUpdates.map((u) => u.o.p.t.billing_cycle_id)}::text[],
                    ${cycleUpdates.map((u) => u.status)}::text[], ${cycleUpdates.map((u) => u.next?.toISOString() ?? null)}::timestamptz[])
          AS u(m, id, status, next)
       WHERE c.merchant_id = u.m AND c.id = u.id AND c.status = 'Processing'
      RETURNING c.*`.execute(tx);
    cycles = result.rows;
  }
  if (unknowns.length > 0) {
    await sql`UPDATE sp_billing_cycles SET locked_until = now() + interval '1 day'
               WHERE id = ANY(${unknowns.map((o) => o.p.t.billing_cycle_id ?? '')}::text[]) AND status = 'Processing'`.execute(
      tx,
    );
    const clocks = [
      ...new Set(unknowns.map((o) => o.p.t.test_clock_id).filter((c): c is string => c !== null)),
    ];
    const when = new Date(at.getTime() + reconcileAfterSeconds * 1000);
    await wakeClocks(
      tx,
      reconcileQueue,
      clocks.map((c) => ({ clock: c, at: when, merchantId: unknowns[0]?.p.t.merchant_id ?? '' })),
    );
  }
  const { rows: subs } = cycleUpdates.length
    ? await sql<SubscriptionRow>`
        UPDATE sp_subscriptions s SET
          billing_cycles_remaining = CASE WHEN s.billing_cycles_remaining = -1 THEN -1
                                          ELSE greatest(0, s.billing_cycles_remaining - u.dec) END,
          balance_minor = s.balance_minor + u.add, updated_at = now()
          FROM unnest(${cycleUpdates.map((u) => u.o.p.t.merchant_id)}::text[], ${cycleUpdates.map((u) => u.o.p.t.subscription_id)}::text[],
                      ${cycleUpdates.map((u) => u.subDec)}::int[], ${cycleUpdates.map((u) => String(u.subAdd))}::bigint[])
            AS u(m, id, dec, add)
         WHERE s.merchant_id = u.m AND s.id = u.id
        RETURNING s.*`.execute(tx)
    : { rows: [] as SubscriptionRow[] };
  const subById = new Map(subs.map((s) => [s.id, s]));

  // Cycle events, with every attempt listed.
  if (cycles.length > 0) {
    const { rows: allTxs } = await sql<TxRow>`
      SELECT * FROM sp_transactions WHERE billing_cycle_id = ANY(${cycles.map((c) => c.id)}::text[]) ORDER BY attempt_no`.execute(
      tx,
    );
    const txsOf = new Map<string, TxRow[]>();
    for (const t of allTxs)
      txsOf.set(t.billing_cycle_id ?? '', [...(txsOf.get(t.billing_cycle_id ?? '') ?? []), t]);
    for (const c of cycles) {
      events.push(
        spEventOf(c, 'billing.updated', 'billing-cycle', c.id, c.status, {
          subscriptionId: c.subscription_id,
          ...cycleView(c, txsOf.get(c.id)),
        }),
      );
    }
    const retries = cycles.filter((c) => c.status === 'Retrying' && c.test_clock_id && c.next_attempt_at);
    await wakeClocks(
      tx,
      chargeQueueClock,
      retries.map((c) => ({
        clock: c.test_clock_id ?? '',
        at: c.next_attempt_at ?? at,
        merchantId: c.merchant_id,
      })),
    );
  }

  // Next cycles (or the end of the term) for cycles that reached a final status.
  const closed = cycles.filter(
    (c) => c.status === 'Captured' || c.status === 'Failed' || c.status === 'Error',
  );
  await scheduleNext(
    tx,
    closed
      .map((c) => subById.get(c.subscription_id))
      .filter((s): s is SubscriptionRow => s?.status === 'active'),
    current,
    events,
  );
  await recordEvents(tx, events);
}

async function delaysFor(tx: Executor, items: Outcome[]): Promise<Map<string, number[]>> {
  const merchants = [...new Set(items.map((o) => o.p.t.merchant_id))];
  const { rows } = await sql<{ merchant_id: string; environment: string; retry_delays_days: number[] }>`
    SELECT merchant_id, environment, retry_delays_days FROM sp_settings WHERE merchant_id = ANY(${merchants}::text[])`.execute(
    tx,
  );
  return new Map(rows.map((r) => [`${r.merchant_id}|${r.environment}`, r.retry_delays_days]));
}

async function chargeAtOf(tx: Executor, t: TxRow): Promise<Date> {
  const { rows } = await sql<{ charge_at: Date }>`
    SELECT charge_at FROM sp_billing_cycles WHERE merchant_id = ${t.merchant_id} AND id = ${t.billing_cycle_id}`.execute(
    tx,
  );
  return rows[0]?.charge_at ?? new Date();
}

async function wakeClocks(
  tx: Executor,
  queue: string,
  wakes: Array<{ clock: string; at: Date; merchantId: string }>,
): Promise<void> {
  const unique = [...new Map(wakes.map((w) => [`${w.clock}:${w.at.toISOString()}`, w])).values()];
  if (unique.length === 0) return;
  await sql`
    INSERT INTO jobs (queue, payload, merchant_id, test_clock_id, run_at, attempts_max, singleton_key)
    SELECT ${queue}, jsonb_build_object('testClockId', clock), m, clock, at, 10, clock || ':' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
      FROM unnest(${unique.map((w) => w.clock)}::text[], ${unique.map((w) => w.merchantId)}::text[],
                  ${unique.map((w) => w.at.toISOString())}::timestamptz[]) AS u(clock, m, at)
    ON CONFLICT DO NOTHING`.execute(tx);
}

async function scheduleNext(
  tx: Tx,
  subs: SubscriptionRow[],
  items: Outcome[],
  events: PendingEvent[],
): Promise<void> {
  if (subs.length === 0) return;
  const ids = subs.map((s) => s.id);
  const { rows: info } = await sql<{
    id: string;
    failed: string;
    trial_period: number | null;
    trial_unit: Unit | null;
  }>`
    SELECT s.id, (SELECT count(*) FROM sp_billing_cycles f WHERE f.merchant_id = s.merchant_id AND f.subscription_id = s.id
                     AND f.status IN ('Failed', 'Error') AND f.collected_by IS NULL) AS failed,
           p.trial_period, p.trial_unit
      FROM sp_subscriptions s JOIN sp_plans p ON p.merchant_id = s.merchant_id AND p.environment = s.environment AND p.id = s.plan_id
     WHERE s.id = ANY(${ids}::text[])`.execute(tx);
  const infoOf = new Map(info.map((i) => [i.id, i]));
  const finishing: SubscriptionRow[] = [];
  const creating: Array<{
    sub: SubscriptionRow;
    k: number;
    plan: ReturnType<typeof cyclePlan>;
    amount: bigint;
    credit: bigint;
    id: string;
  }> = [];
  for (const sub of subs) {
    const i = infoOf.get(sub.id);
    const remaining = sub.billing_cycles_remaining;
    if (remaining !== -1 && remaining <= Number(i?.failed ?? 0)) {
      finishing.push(sub);
      continue;
    }
    const hadTrial = sub.trial_end_date !== null;
    let trial: { period: number; unit: Unit } | null = null;
    if (hadTrial && i?.trial_period && i.trial_unit) trial = { period: i.trial_period, unit: i.trial_unit };
    if (hadTrial && !trial) {
      // The plan's trial was removed later: the subscription keeps its own (per-row path rebuilds it).
      const start = new Date(`${String(sub.trial_start_date).slice(0, 10)}T00:00:00Z`).getTime();
      const end = new Date(`${String(sub.trial_end_date).slice(0, 10)}T00:00:00Z`).getTime();
      trial = { period: Math.max(1, Math.round((end - start) / 86_400_000)), unit: 'day' };
    }
    const terms = { ...termsOf({ ...sub, trial_period: null, trial_unit: null }), trial };
    const k = sub.cycles_created;
    const credit = BigInt(sub.pause_credit_minor);
    const base = BigInt(sub.amount_minor) - credit;
    creating.push({
      sub,
      k,
      plan: cyclePlan(terms, k),
      amount: base < 0n ? 0n : base,
      credit,
      id: newSpId('billingCycle'),
    });
  }
  if (finishing.length > 0) {
    const { rows } = await sql<SubscriptionRow>`
      UPDATE sp_subscriptions SET status = 'finished', next_billing_date = NULL, updated_at = now()
       WHERE id = ANY(${finishing.map((s) => s.id)}::text[]) AND status = 'active' RETURNING *`.execute(tx);
    for (const s of rows)
      events.push(spEventOf(s, 'status.updated', 'subscription', s.id, 'finished', subscriptionView(s)));
  }
  if (creating.length === 0) return;
  const { rows: created } = await sql<CycleRow>`
    WITH cyc AS (
      INSERT INTO sp_billing_cycles (merchant_id, environment, id, subscription_id, cycle_no, billing_date, period_start,
        period_end, charge_at, amount_minor, credit_minor, currency, status, next_attempt_at, test_clock_id)
      SELECT m, env, id, sub, k, bd::date, ps::date, pe::date, at, amount, credit, currency, 'Scheduled', at, clock
        FROM unnest(${creating.map((c) => c.sub.merchant_id)}::text[], ${creating.map((c) => c.sub.environment)}::text[],
                    ${creating.map((c) => c.id)}::text[], ${creating.map((c) => c.sub.id)}::text[], ${creating.map((c) => c.k)}::int[],
                    ${creating.map((c) => c.plan.billingDate)}::text[], ${creating.map((c) => c.plan.periodStart)}::text[],
                    ${creating.map((c) => c.plan.periodEnd)}::text[], ${creating.map((c) => c.plan.chargeAt.toISOString())}::timestamptz[],
                    ${creating.map((c) => String(c.amount))}::bigint[], ${creating.map((c) => String(c.credit))}::bigint[],
                    ${creating.map((c) => c.sub.currency)}::text[], ${creating.map((c) => c.sub.test_clock_id)}::text[])
          AS u(m, env, id, sub, k, bd, ps, pe, at, amount, credit, currency, clock)
      RETURNING *
    ), s AS (
      UPDATE sp_subscriptions x SET cycles_created = u.k + 1, next_billing_date = u.bd::date, pause_credit_minor = 0, updated_at = now()
        FROM unnest(${creating.map((c) => c.sub.merchant_id)}::text[], ${creating.map((c) => c.sub.id)}::text[],
                    ${creating.map((c) => c.k)}::int[], ${creating.map((c) => c.plan.billingDate)}::text[]) AS u(m, id, k, bd)
       WHERE x.merchant_id = u.m AND x.id = u.id
    )
    SELECT * FROM cyc`.execute(tx);
  const cardOf = new Map(items.map((o) => [o.p.t.subscription_id ?? '', o.p.card]));
  for (const c of created) {
    events.push(
      spEventOf(c, 'billing.scheduled', 'billing-cycle', c.id, c.status, {
        subscriptionId: c.subscription_id,
        ...cycleView(c),
      }),
    );
    const card = cardOf.get(c.subscription_id);
    const sub = subs.find((s) => s.id === c.subscription_id);
    if (card && sub && Date.UTC(card.exp_year, card.exp_month, 1) <= c.charge_at.getTime()) {
      events.push(
        spEventOf(c, 'billing.expires', 'subscription', c.subscription_id, null, {
          billingAgreementId: sub.billing_agreement_id,
          storedPaymentOptionReference: card.card_id,
          expiryMonth: card.exp_month,
          expiryYear: card.exp_year,
          nextBillingDate: c.charge_at.toISOString().slice(0, 10),
        }),
      );
    }
  }
  await wakeClocks(
    tx,
    chargeQueueClock,
    created
      .filter((c) => c.test_clock_id)
      .map((c) => ({ clock: c.test_clock_id ?? '', at: c.charge_at, merchantId: c.merchant_id })),
  );
}

/**
 * Charges a claimed batch: set-based prepare, acquirer calls (`concurrency` at a time), set-based apply.
 * Cycles the batch path does not take are charged one by one.
 */
export async function chargeBatch(
  deps: BillingDeps,
  claimed: readonly {
    merchant_id: string;
    environment: Environment;
    id: string;
    subscription_id: string;
    test_clock_id: string | null;
    attempts: number;
  }[],
  at: () => Date,
  concurrency: number,
  onCharged?: (ms: number) => void,
): Promise<void> {
  const started = performance.now();
  let prepared: Prepared[] = [];
  let leftovers: string[] = claimed.map((c) => c.id);
  try {
    const result = await transaction(deps.db, (tx) => prepareBatch(tx, claimed));
    prepared = result.prepared;
    leftovers = result.leftovers;
  } catch {
    // Nothing was written: every cycle takes the per-row path.
  }
  const when = at();
  const outcomes: Outcome[] = new Array<Outcome>(prepared.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < prepared.length; i = next++) {
      const p = prepared[i];
      if (!p) continue;
      outcomes[i] = {
        p,
        outcome: await callAcquirer(deps.acquirer, {
          tx: p.t,
          cardToken: p.cardToken,
          ntid: p.ntid,
          at: when,
          recovering: false,
        }),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, prepared.length) }, lane));
  try {
    await transaction(deps.db, (tx) => applyBatch(tx, outcomes, when));
  } catch {
    // Nothing was written: each outcome is recorded on its own (idempotent per attempt).
    for (const o of outcomes) await applyOutcome(deps.db, o.p.t, o.outcome, when);
  }
  if (onCharged) {
    // A charge's latency: from its claim to its recorded outcome (the whole batch's time).
    const ms = performance.now() - started;
    for (let i = 0; i < prepared.length; i++) onCharged(ms);
  }
  const rest = claimed.filter((c) => leftovers.includes(c.id));
  for (const c of rest) await chargeClaimed(deps, c, when);
}
