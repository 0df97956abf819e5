import { assert } from '../../core/errors/errors.js';
import { abortedBeforeSend, callSignal, waitForAbort, type CallOptions } from './call-budget.js';
import { assertConnectorReference } from './connector.js';
import {
  declined,
  notSent,
  pending,
  succeeded,
  transportRawCodes,
  unknown,
  type ConnectorOutcome,
  type DeclineReason,
} from './outcome.js';

/**
 * What every simulator shares: a vendor that remembers each operation by our reference, answers the
 * same reference with the same result, and can be told from tests what to do next. Simulators are the
 * sandbox's connectors, so this is part of the contract: tests and the sandbox's payer simulation drive
 * every kind the same way (`script.nextOutcome`, `settle`, `reset`).
 *
 * Deterministic by construction: no randomness, no clock. The only wait is `hang`, which ends when the
 * call's budget runs out or its signal aborts.
 */

export const scriptedOutcomes = ['succeeded', 'declined', 'pending', 'unknown', 'not_sent', 'hang'] as const;
export type ScriptedOutcome = (typeof scriptedOutcomes)[number];

export interface ScriptOptions<TOperation extends string> {
  /** Aim the entry at one operation; without it, the next money-moving operation takes it. */
  readonly operation?: TOperation;
  /** `declined`, and `pending` settling as declined: the reason (default: the simulator's generic one). */
  readonly declineReason?: DeclineReason;
  /** `pending`: what the first `status()` reveals; `never` waits for `settle()` (default `succeeded`). */
  readonly settlesAs?: 'succeeded' | 'declined' | 'never';
  /** `unknown` and `hang`: whether the vendor did the work before the answer was lost (default true). */
  readonly applied?: boolean;
}

export interface ScriptEntry<TOperation extends string> {
  readonly outcome: ScriptedOutcome;
  readonly options: ScriptOptions<TOperation>;
}

/** A test queues a handful of outcomes; a long queue means a test forgot to consume them. */
export const scriptQueueLengthMax = 64;

export interface ScriptRules<TOperation extends string> {
  /** Operations that take entries with no `operation` (the ones that move money or state). */
  readonly untargeted: readonly TOperation[];
  /** What each operation may be scripted to do; lookups can only be made to fail. */
  readonly allowed: Readonly<Record<TOperation, readonly ScriptedOutcome[]>>;
}

/** Outcomes a read-only call (status, validation) can be scripted to: its transport failing. */
export const lookupScriptableOutcomes: readonly ScriptedOutcome[] = ['unknown', 'not_sent', 'hang'];

/** A queue of outcomes that override magic values for the next calls, in order. */
export class SimulatorScript<TOperation extends string> {
  readonly #rules: ScriptRules<TOperation>;
  #entries: ScriptEntry<TOperation>[] = [];

  constructor(rules: ScriptRules<TOperation>) {
    this.#rules = rules;
  }

  nextOutcome(outcome: ScriptedOutcome, options: ScriptOptions<TOperation> = {}): this {
    assert(this.#entries.length < scriptQueueLengthMax, `script queue is full (${scriptQueueLengthMax})`);
    const targets = options.operation === undefined ? this.#rules.untargeted : [options.operation];
    for (const target of targets) {
      assert(
        this.#rules.allowed[target].includes(outcome),
        `operation ${target} cannot be scripted to ${outcome}`,
      );
    }
    this.#entries.push({ outcome, options });
    return this;
  }

  /** Removes and returns the first entry meant for `operation`. */
  take(operation: TOperation): ScriptEntry<TOperation> | undefined {
    const index = this.#entries.findIndex((entry) =>
      entry.options.operation === undefined
        ? this.#rules.untargeted.includes(operation)
        : entry.options.operation === operation,
    );
    if (index < 0) return undefined;
    const [entry] = this.#entries.splice(index, 1);
    return entry;
  }

  get queuedCount(): number {
    return this.#entries.length;
  }

  clear(): void {
    this.#entries = [];
  }
}

/** A vendor's answer in its own words. */
export interface RawCode {
  readonly rawCode: string;
  readonly rawMessage: string;
}

export interface SimulatedDecline extends RawCode {
  readonly status: 'declined';
  readonly declineReason: DeclineReason;
}

/** What a pending operation becomes: at the first `status()`, or only when `settle()` is called. */
export type SimulatedSettlement =
  { readonly status: 'succeeded' } | SimulatedDecline | { readonly status: 'never' };

/** What the vendor decides about a request it received. */
export type SimulatedDecision =
  | { readonly status: 'succeeded' }
  | SimulatedDecline
  | { readonly status: 'pending'; readonly settlesAs: SimulatedSettlement };

/**
 * What happens on the wire: `answer` delivers the decision; `lose_answer` and `hang` lose it (the
 * latter only once the budget runs out); `refuse` never delivers the request at all.
 */
export type SimulatedTransport = 'answer' | 'lose_answer' | 'hang' | 'refuse';

export interface SimulatedBehaviour {
  readonly transport: SimulatedTransport;
  readonly decision: SimulatedDecision;
  /** For `lose_answer` and `hang`: the vendor did the work before the answer was lost. */
  readonly applied: boolean;
}

export const answerWith = (decision: SimulatedDecision): SimulatedBehaviour => ({
  transport: 'answer',
  decision,
  applied: true,
});

export const decline = (declineReason: DeclineReason, raw: RawCode): SimulatedDecline => ({
  status: 'declined',
  declineReason,
  ...raw,
});

export type SimulatedState =
  | { readonly status: 'succeeded' }
  | SimulatedDecline
  | { readonly status: 'pending'; readonly settlesAs: SimulatedSettlement };

export interface SimulatedRecord<TData> {
  readonly operation: string;
  readonly reference: string;
  /** The charge, authorization, agreement or reservation this operation acts on. */
  readonly parentReference: string | undefined;
  /** The request's parameters; the same reference with other parameters is a caller bug. */
  readonly fingerprint: string;
  readonly connectorReference: string;
  readonly data: TData;
  readonly state: SimulatedState;
}

/**
 * Operations one simulator instance remembers. At the limit it refuses new references (`not_sent`,
 * nothing happened) rather than forget old ones: forgetting would make `status()` say "never sent" about
 * money that moved.
 */
export const simulatorRecordsMax = 100_000;

/** Raw code a simulator answers with when it is full. */
export const simulatorCapacityRawCode = 'SIM_CAPACITY';

export interface SimulatedVendorSetup<TOperation extends string> {
  /** Prefix of the vendor's own ids, e.g. `simcar`. */
  readonly connectorReferencePrefix: string;
  readonly succeeded: RawCode;
  readonly pending: RawCode;
  /** The vendor's answer to a lookup of a reference it never saw. */
  readonly notFound: RawCode;
  /** The vendor's words for a decline reason, used when a script declines without a magic value. */
  readonly declineRaw: (reason: DeclineReason) => RawCode;
  /** Reason used when a script says `declined` without naming one. */
  readonly defaultDeclineReason: DeclineReason;
  readonly script: SimulatorScript<TOperation>;
}

export interface SimulatedCall<TOperation extends string, TData, TResult> {
  readonly operation: TOperation;
  readonly reference: string;
  readonly parentReference?: string;
  /** Canonical text of every parameter that matters (see `fingerprintOf`). */
  readonly fingerprint: string;
  readonly options: CallOptions;
  /** What the magic values say about a new reference. */
  readonly magic: SimulatedBehaviour;
  /** The vendor's own rules, checked when it processes a new reference (refund bounds, capture once). */
  readonly refusal?: () => SimulatedDecline | undefined;
  readonly data: TData;
  /** What a success reports, from the stored record (a replay reports what was stored). */
  readonly present: (record: SimulatedRecord<TData>) => TResult;
}

/**
 * The memory and the wire of a simulated vendor. Each kind's simulator decides (magic values, rules);
 * this class makes every kind behave the same way towards references, scripts, budgets and lookups.
 */
export class SimulatedVendor<TOperation extends string, TData> {
  readonly #setup: SimulatedVendorSetup<TOperation>;
  readonly #records = new Map<string, SimulatedRecord<TData>>();
  readonly #children = new Map<string, string[]>();

  constructor(setup: SimulatedVendorSetup<TOperation>) {
    this.#setup = setup;
  }

  /**
   * Performs a state-changing operation. The record is stored before any wait, so a concurrent call
   * with the same reference (or a `status()` during a hang) already sees it: one charge, never two.
   */
  async perform<TResult>(
    call: SimulatedCall<TOperation, TData, TResult>,
  ): Promise<ConnectorOutcome<TResult>> {
    assertConnectorReference(call.reference);
    const signal = callSignal(call.options);
    if (abortedBeforeSend(call.options)) return notSent({ rawCode: transportRawCodes.abortedBeforeSend });
    const existing = this.#records.get(call.reference);
    assert(
      existing === undefined || existing.fingerprint === call.fingerprint,
      `reference ${call.reference} was already used with different parameters`,
    );
    const scripted = this.#setup.script.take(call.operation);
    if (existing) {
      // A replay is answered from memory; only the wire can still fail.
      const transport = scripted ? transportOf(scripted) : 'answer';
      if (transport === 'refuse') return notSent({ rawCode: transportRawCodes.connectionRefused });
      return this.#deliver(transport, signal, () => this.#render(existing, call.present));
    }

    const behaviour = scripted ? this.#fromScript(scripted, call.magic) : call.magic;
    if (behaviour.transport === 'refuse') return notSent({ rawCode: transportRawCodes.connectionRefused });
    if (this.#records.size >= simulatorRecordsMax) {
      return notSent({ rawCode: simulatorCapacityRawCode, rawMessage: 'simulator is full; reset it' });
    }
    const storesRecord = behaviour.transport === 'answer' || behaviour.applied;
    if (!storesRecord) return this.#deliver(behaviour.transport, signal, () => unknown(timeoutRaw));

    const refusal = call.refusal?.();
    const record: SimulatedRecord<TData> = {
      operation: call.operation,
      reference: call.reference,
      parentReference: call.parentReference,
      fingerprint: call.fingerprint,
      connectorReference: `${this.#setup.connectorReferencePrefix}_${stableHex(`${call.operation}:${call.reference}`)}`,
      data: call.data,
      state: refusal ?? behaviour.decision,
    };
    this.#store(record);
    return this.#deliver(behaviour.transport, signal, () => this.#render(record, call.present));
  }

  /**
   * Looks a reference up. A pending operation settles here (first lookup) unless it waits for
   * `settle()`. A lookup that fails on the wire is `unknown` — we learned nothing — and `not_sent`
   * means the vendor has no record of the reference at all.
   */
  async lookup<TResult>(
    operation: TOperation,
    reference: string,
    options: CallOptions,
    present: (record: SimulatedRecord<TData>) => TResult,
  ): Promise<ConnectorOutcome<TResult>> {
    assertConnectorReference(reference);
    const signal = callSignal(options);
    if (abortedBeforeSend(options)) return unknown({ rawCode: transportRawCodes.abortedBeforeSend });
    const scripted = this.#setup.script.take(operation);
    const transport = scripted ? transportOf(scripted) : 'answer';
    if (transport === 'refuse') return unknown({ rawCode: transportRawCodes.connectionRefused });
    return this.#deliver(transport, signal, () => {
      const record = this.#records.get(reference);
      if (!record) return notSent({ ...this.#setup.notFound });
      const settled = this.#settleOnLookup(record);
      return this.#render(settled, present);
    });
  }

  /**
   * A read-only call that stores nothing (account validation): answered from `answer`, unless a script
   * makes its wire fail. A refused read is `not_sent`: nothing was asked, so asking again is safe.
   */
  async query<TResult>(
    operation: TOperation,
    options: CallOptions,
    answer: () => ConnectorOutcome<TResult>,
  ): Promise<ConnectorOutcome<TResult>> {
    const signal = callSignal(options);
    if (abortedBeforeSend(options)) return notSent({ rawCode: transportRawCodes.abortedBeforeSend });
    const scripted = this.#setup.script.take(operation);
    if (scripted?.outcome === 'declined') {
      const reason = scripted.options.declineReason ?? this.#setup.defaultDeclineReason;
      return declined(reason, this.#setup.declineRaw(reason));
    }
    const transport = scripted ? transportOf(scripted) : 'answer';
    if (transport === 'refuse') return notSent({ rawCode: transportRawCodes.connectionRefused });
    return this.#deliver(transport, signal, answer);
  }

  /**
   * Decides a pending operation now, as the payer or the vendor's back office would. Returns false when
   * the reference is unknown or already final, so a second decision changes nothing.
   */
  settle(reference: string, decision: { readonly status: 'succeeded' } | SimulatedDecline): boolean {
    const record = this.#records.get(reference);
    if (!record || record.state.status !== 'pending') return false;
    this.#records.set(reference, { ...record, state: decision });
    return true;
  }

  get(reference: string): SimulatedRecord<TData> | undefined {
    return this.#records.get(reference);
  }

  /** Operations that act on `parentReference`, in the order they were received. */
  childrenOf(parentReference: string): SimulatedRecord<TData>[] {
    const references = this.#children.get(parentReference) ?? [];
    const children: SimulatedRecord<TData>[] = [];
    for (const reference of references) {
      const record = this.#records.get(reference);
      if (record) children.push(record);
    }
    return children;
  }

  get recordCount(): number {
    return this.#records.size;
  }

  reset(): void {
    this.#records.clear();
    this.#children.clear();
    this.#setup.script.clear();
  }

  #store(record: SimulatedRecord<TData>): void {
    this.#records.set(record.reference, record);
    if (record.parentReference === undefined) return;
    const siblings = this.#children.get(record.parentReference);
    if (siblings) siblings.push(record.reference);
    else this.#children.set(record.parentReference, [record.reference]);
  }

  #settleOnLookup(record: SimulatedRecord<TData>): SimulatedRecord<TData> {
    if (record.state.status !== 'pending' || record.state.settlesAs.status === 'never') return record;
    const settled: SimulatedRecord<TData> = { ...record, state: record.state.settlesAs };
    this.#records.set(record.reference, settled);
    return settled;
  }

  #render<TResult>(
    record: SimulatedRecord<TData>,
    present: (record: SimulatedRecord<TData>) => TResult,
  ): ConnectorOutcome<TResult> {
    const connectorReference = record.connectorReference;
    switch (record.state.status) {
      case 'succeeded':
        return succeeded(present(record), { ...this.#setup.succeeded, connectorReference });
      case 'declined':
        return declined(record.state.declineReason, {
          rawCode: record.state.rawCode,
          rawMessage: record.state.rawMessage,
          connectorReference,
        });
      case 'pending':
        return pending({ ...this.#setup.pending, connectorReference });
    }
  }

  async #deliver<TResult>(
    transport: Exclude<SimulatedTransport, 'refuse'>,
    signal: AbortSignal,
    answer: () => ConnectorOutcome<TResult>,
  ): Promise<ConnectorOutcome<TResult>> {
    if (transport === 'answer') return answer();
    if (transport === 'hang') await waitForAbort(signal);
    return unknown(timeoutRaw);
  }

  #fromScript(entry: ScriptEntry<TOperation>, magic: SimulatedBehaviour): SimulatedBehaviour {
    const { options } = entry;
    switch (entry.outcome) {
      case 'succeeded':
        return answerWith({ status: 'succeeded' });
      case 'declined':
        return answerWith(this.#decline(options.declineReason));
      case 'pending':
        return answerWith({ status: 'pending', settlesAs: this.#settlement(options) });
      case 'not_sent':
        return { transport: 'refuse', decision: magic.decision, applied: false };
      case 'unknown':
        return { transport: 'lose_answer', decision: magic.decision, applied: options.applied ?? true };
      case 'hang':
        return { transport: 'hang', decision: magic.decision, applied: options.applied ?? true };
    }
  }

  #settlement(options: ScriptOptions<TOperation>): SimulatedSettlement {
    switch (options.settlesAs ?? 'succeeded') {
      case 'succeeded':
        return { status: 'succeeded' };
      case 'declined':
        return this.#decline(options.declineReason);
      case 'never':
        return { status: 'never' };
    }
  }

  #decline(reason: DeclineReason | undefined): SimulatedDecline {
    const declineReason = reason ?? this.#setup.defaultDeclineReason;
    return decline(declineReason, this.#setup.declineRaw(declineReason));
  }
}

const timeoutRaw = { rawCode: transportRawCodes.timeout, rawMessage: 'no answer within the call budget' };

/** What a script entry does to the wire of a call whose decision is already made (a replay, a lookup). */
function transportOf<TOperation extends string>(entry: ScriptEntry<TOperation>): SimulatedTransport {
  switch (entry.outcome) {
    case 'not_sent':
      return 'refuse';
    case 'unknown':
      return 'lose_answer';
    case 'hang':
      return 'hang';
    default:
      return 'answer';
  }
}

/**
 * Canonical text of a request's parameters, so "the same reference with the same parameters" is a
 * string comparison. Keys are sorted; amounts keep their bigint digits.
 */
export function fingerprintOf(
  parameters: Readonly<Record<string, string | bigint | boolean | undefined>>,
): string {
  return Object.keys(parameters)
    .sort()
    .map((key) => {
      const value = parameters[key];
      return `${key}=${value === undefined ? '' : `${typeof value}:${String(value)}`}`;
    })
    .join('&');
}

/** FNV-1a, 32 bits: deterministic ids and values derived from a reference or an account number. */
export function stableHash(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** 16 hex characters (two differently seeded hashes): unique enough for a simulator's ids. */
export function stableHex(text: string): string {
  const high = stableHash(text).toString(16).padStart(8, '0');
  const low = stableHash(text, 0x01000193).toString(16).padStart(8, '0');
  return `${high}${low}`;
}

/** `count` decimal digits derived from `text` (electricity tokens, receipt numbers). */
export function stableDigits(text: string, count: number): string {
  let digits = '';
  for (let round = 0; digits.length < count; round++) {
    digits += stableHash(`${round}:${text}`).toString().padStart(10, '0');
  }
  return digits.slice(0, count);
}
