import { randomInt } from 'node:crypto';
import {
  silentSmsGatewayLog,
  smsLocalRawCodes,
  type SmsDeliveryReceipt,
  type SmsDeliveryReceiptListener,
  type SmsEncoding,
  type SmsGateway,
  type SmsGatewayClass,
  type SmsGatewayDeps,
  type SmsGatewayLog,
  type SmsSendOutcome,
  type SmsSendRequest,
} from '../../contracts/sms-gateway.js';
import { parseSmsRequest, sendTimeoutMs, type ParsedSmsRequest } from '../request.js';
import type { SmppGatewayConfig } from './config.js';
import {
  connectSession,
  createPdu,
  pduBuffer,
  pduMessageText,
  pduNumber,
  pduString,
  type SmppPdu,
  type SmppSession,
} from './smpp-pdu.js';
import {
  commandStatus,
  describeCommandStatus,
  parseDeliveryReceipt,
  rawCommandStatus,
  submitOutcome,
  submitSmFields,
} from './transform.js';

/**
 * An SMPP 3.4 ESME over node-smpp (README "SMPP"): one transceiver session per gateway, bound on first
 * use (a send or a receipt listener), kept alive with enquire_link, re-bound with exponential backoff
 * when it drops. Sends take a slot in a bounded window; every wait has a deadline (STYLE.md §13).
 */

const SMPP_INTERFACE_VERSION_3_4 = 0x34;
/** Caps the backoff exponent so the delay arithmetic stays finite; the delay is capped by config too. */
const BACKOFF_EXPONENT_MAX = 20;

export type SmppConnectionState = 'idle' | 'connecting' | 'bound' | 'backoff' | 'closing' | 'closed';

interface Failure {
  readonly rawCode: string;
  readonly rawMessage: string;
}

type RequestResult =
  | { readonly kind: 'response'; readonly pdu: SmppPdu }
  | { readonly kind: 'not_written' }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'lost' }
  | { readonly kind: 'aborted' };

type WaitResult = 'changed' | 'timeout' | 'aborted';

/** One TCP connection and the requests waiting for a response on it. */
class Link {
  readonly pending = new Map<number, (result: RequestResult) => void>();
  bound = false;
  closed = false;
  /** Why we are ending it, set before we end it; otherwise the socket error or a plain "closed". */
  failure: Failure | undefined;
  socketError: string | undefined;
  connectTimer: NodeJS.Timeout | undefined;
  keepaliveTimer: NodeJS.Timeout | undefined;
  readonly closedPromise: Promise<void>;
  readonly markClosed: () => void;

  constructor(readonly session: SmppSession) {
    let markClosed = (): void => undefined;
    this.closedPromise = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    this.markClosed = markClosed;
  }
}

export class SmppSmsGateway implements SmsGateway {
  static readonly id = 'smpp';
  readonly id = SmppSmsGateway.id;

  readonly #config: SmppGatewayConfig;
  readonly #log: SmsGatewayLog;
  readonly #now: () => Date;
  readonly #listeners = new Set<SmsDeliveryReceiptListener>();
  /** Woken on every state change and window release; each waiter re-checks what it waits for. */
  readonly #changeWaiters = new Set<() => void>();
  #state: SmppConnectionState = 'idle';
  #link: Link | undefined;
  #lastFailure: Failure | undefined;
  #reconnectAttempt = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #inFlight = 0;
  #waitingSends = 0;
  #concatenationReference = randomInt(256);
  #closing: Promise<void> | undefined;

  constructor(config: SmppGatewayConfig, deps: SmsGatewayDeps = {}) {
    this.#config = config;
    this.#log = deps.log ?? silentSmsGatewayLog;
    this.#now = deps.now ?? (() => new Date());
  }

  /** For health checks and tests. */
  get connectionState(): SmppConnectionState {
    return this.#state;
  }

  async send(request: SmsSendRequest): Promise<SmsSendOutcome> {
    if (this.#closing !== undefined) {
      return {
        status: 'not_sent',
        rawCode: smsLocalRawCodes.closed,
        rawMessage: 'gateway closed',
        segmentCount: 0,
      };
    }
    const parsed = parseSmsRequest(request);
    if (!parsed.ok) return parsed.outcome;
    const sized = { segmentCount: parsed.request.plan.segmentCount, encoding: parsed.request.plan.encoding };
    const signal = request.abortSignal;
    if (signal?.aborted) {
      return {
        status: 'not_sent',
        rawCode: smsLocalRawCodes.aborted,
        rawMessage: 'aborted before sending',
        ...sized,
      };
    }
    const deadline = performance.now() + sendTimeoutMs(request, this.#config.submitTimeoutMs);
    if (this.#waitingSends >= this.#config.sendWaitersMax) {
      return {
        status: 'not_sent',
        rawCode: smsLocalRawCodes.busy,
        rawMessage: `${this.#waitingSends} sends are already waiting for this SMPP gateway`,
        ...sized,
      };
    }
    this.#waitingSends++;
    let slot: { readonly ok: true; readonly link: Link } | { readonly ok: false; readonly failure: Failure };
    try {
      slot = await this.#acquireSlot(deadline, signal);
    } finally {
      this.#waitingSends--;
    }
    if (!slot.ok) return { status: 'not_sent', ...slot.failure, ...sized };
    try {
      return await this.#submit(slot.link, parsed.request, deadline, signal, sized);
    } finally {
      this.#inFlight--;
      this.#notify();
    }
  }

  onDeliveryReceipt(listener: SmsDeliveryReceiptListener): () => void {
    this.#listeners.add(listener);
    // Bind now: receipts for messages sent before a restart are waiting at the SMSC.
    if (this.#state === 'idle') this.#connect();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  // ---- sending ----

  /** Waits until bound with a free window slot, or says why not. Fails fast while backing off. */
  async #acquireSlot(
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<{ readonly ok: true; readonly link: Link } | { readonly ok: false; readonly failure: Failure }> {
    for (;;) {
      if (this.#state === 'closing' || this.#state === 'closed') {
        return { ok: false, failure: { rawCode: smsLocalRawCodes.closed, rawMessage: 'gateway closed' } };
      }
      if (this.#state === 'idle') this.#connect();
      if (this.#state === 'backoff') {
        return {
          ok: false,
          failure: this.#lastFailure ?? {
            rawCode: smsLocalRawCodes.notConnected,
            rawMessage: 'not connected',
          },
        };
      }
      const link = this.#link;
      if (this.#state === 'bound' && link?.bound === true && this.#inFlight < this.#config.inFlightMax) {
        this.#inFlight++;
        return { ok: true, link };
      }
      const waited = await this.#nextChange(deadline, signal);
      if (waited === 'aborted') {
        return {
          ok: false,
          failure: { rawCode: smsLocalRawCodes.aborted, rawMessage: 'aborted before sending' },
        };
      }
      if (waited === 'timeout') {
        const why =
          this.#state === 'bound'
            ? `all ${this.#config.inFlightMax} window slots stayed busy`
            : `not bound to ${this.#where()}${this.#lastFailure ? `; last failure: ${this.#lastFailure.rawMessage}` : ''}`;
        return {
          ok: false,
          failure: { rawCode: smsLocalRawCodes.timeout, rawMessage: `timed out before sending: ${why}` },
        };
      }
    }
  }

  async #submit(
    link: Link,
    request: ParsedSmsRequest,
    deadline: number,
    signal: AbortSignal | undefined,
    sized: { readonly segmentCount: number; readonly encoding: SmsEncoding },
  ): Promise<SmsSendOutcome> {
    const pdus = submitSmFields(request, {
      longMessages: this.#config.longMessages,
      deliveryReceipts: this.#config.deliveryReceipts,
      sourceTon: this.#config.sourceTon,
      sourceNpi: this.#config.sourceNpi,
      concatenationReference: this.#nextConcatenationReference(),
    });
    const accepted: string[] = [];
    const references = () =>
      accepted.length === 0 ? {} : { gatewayReference: accepted[0], segmentGatewayReferences: [...accepted] };
    const part = (index: number) => (pdus.length === 1 ? '' : ` (submit_sm ${index + 1} of ${pdus.length})`);
    // A refusal after some segments were taken: the message cannot arrive whole, and a resend would
    // repeat the taken ones, so it is declined with the references of the taken segments.
    const partial = (index: number, failure: Failure): SmsSendOutcome => ({
      status: 'declined',
      ...references(),
      rawCode: failure.rawCode,
      rawMessage: `partly sent: ${index} of ${pdus.length} segments taken, then ${failure.rawMessage}`,
      ...sized,
    });
    for (const [index, fields] of pdus.entries()) {
      const remainingMs = deadline - performance.now();
      if (index > 0 && (remainingMs <= 0 || signal?.aborted === true || !link.bound || link.closed)) {
        const reason = signal?.aborted
          ? smsLocalRawCodes.aborted
          : remainingMs <= 0
            ? smsLocalRawCodes.timeout
            : smsLocalRawCodes.connectionLost;
        return partial(index, { rawCode: reason, rawMessage: `stopped before the next segment (${reason})` });
      }
      const result = await this.#request(
        link,
        createPdu('submit_sm', { ...fields }),
        Math.max(1, remainingMs),
        signal,
      );
      switch (result.kind) {
        case 'not_written': {
          const failure = {
            rawCode: smsLocalRawCodes.notConnected,
            rawMessage: 'the connection was not writable',
          };
          if (index > 0) return partial(index, failure);
          return { status: 'not_sent', ...failure, ...sized };
        }
        case 'timeout':
        case 'lost':
        case 'aborted': {
          const rawCode = {
            timeout: smsLocalRawCodes.timeout,
            lost: smsLocalRawCodes.connectionLost,
            aborted: smsLocalRawCodes.aborted,
          }[result.kind];
          const what = {
            timeout: 'no submit_sm_resp before the deadline',
            lost: 'the connection dropped before submit_sm_resp',
            aborted: 'aborted while waiting for submit_sm_resp',
          }[result.kind];
          return {
            status: 'unknown',
            ...references(),
            rawCode,
            rawMessage: `${what}${part(index)}`,
            ...sized,
          };
        }
        case 'response': {
          const code = result.pdu.command_status;
          if (code !== commandStatus.ESME_ROK) {
            const refused = submitOutcome(code, this.#config.deliveryReceipts);
            this.#log.warn(
              { reference: request.reference, rawCode: refused.rawCode, segment: index + 1 },
              'SMSC refused submit_sm',
            );
            if (index > 0)
              return partial(index, { rawCode: refused.rawCode, rawMessage: refused.rawMessage });
            return { ...refused, ...sized };
          }
          const messageId = pduString(result.pdu, 'message_id') ?? '';
          if (messageId.length > 0) accepted.push(messageId);
        }
      }
    }
    const taken = submitOutcome(commandStatus.ESME_ROK, this.#config.deliveryReceipts);
    return {
      ...taken,
      ...references(),
      ...(accepted.length === pdus.length
        ? {}
        : { rawMessage: `${taken.rawMessage}; the SMSC sent no message_id` }),
      ...sized,
    };
  }

  #nextConcatenationReference(): number {
    this.#concatenationReference = (this.#concatenationReference + 1) & 0xff;
    return this.#concatenationReference;
  }

  /** Writes a request PDU and waits for its response, the deadline, an abort, or the link dropping. */
  #request(link: Link, pdu: SmppPdu, timeoutMs: number, signal?: AbortSignal): Promise<RequestResult> {
    if (link.closed) return Promise.resolve({ kind: 'not_written' });
    let written: boolean;
    try {
      written = link.session.send(pdu);
    } catch (error) {
      this.#log.error({ command: pdu.command, error: String(error) }, 'SMPP PDU could not be encoded');
      written = false;
    }
    if (!written) return Promise.resolve({ kind: 'not_written' });
    const sequence = pdu.sequence_number;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: RequestResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        link.pending.delete(sequence);
        resolve(result);
      };
      const onAbort = (): void => settle({ kind: 'aborted' });
      const timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      link.pending.set(sequence, settle);
    });
  }

  // ---- the connection ----

  #connect(): void {
    this.#setState('connecting');
    const { host, port, tls } = this.#config;
    const session = connectSession({ host, port, tls });
    const link = new Link(session);
    this.#link = link;
    link.connectTimer = setTimeout(() => {
      this.#drop(link, {
        rawCode: smsLocalRawCodes.notConnected,
        rawMessage: `no connection to ${this.#where()} within ${this.#config.connectTimeoutMs} ms`,
      });
    }, this.#config.connectTimeoutMs);
    session.on(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(link.connectTimer);
      void this.#bind(link);
    });
    session.on('pdu', (pdu) => this.#onPdu(link, pdu));
    // A socket error is followed by 'close'. A malformed PDU stops node-smpp's reader for good, so
    // any error ends the link and we reconnect.
    session.on('error', (error) => {
      link.socketError ??= error.message;
      this.#drop(link, undefined);
    });
    session.on('close', () => this.#onLinkClosed(link));
  }

  async #bind(link: Link): Promise<void> {
    const { systemId, systemType, bindTimeoutMs } = this.#config;
    const bind = createPdu('bind_transceiver', {
      system_id: systemId,
      password: this.#config.password.reveal(),
      system_type: systemType,
      interface_version: SMPP_INTERFACE_VERSION_3_4,
    });
    const result = await this.#request(link, bind, bindTimeoutMs);
    if (link.closed || this.#link !== link || this.#state !== 'connecting') return;
    if (result.kind === 'response' && result.pdu.command_status === commandStatus.ESME_ROK) {
      link.bound = true;
      this.#reconnectAttempt = 0;
      this.#lastFailure = undefined;
      this.#log.info(
        { ...this.#logFields(), smscSystemId: pduString(result.pdu, 'system_id') ?? '' },
        'SMPP bound as transceiver',
      );
      this.#scheduleKeepalive(link);
      this.#setState('bound');
      return;
    }
    const failure: Failure =
      result.kind === 'response'
        ? {
            rawCode: rawCommandStatus(result.pdu.command_status),
            rawMessage: `the SMSC refused bind_transceiver for system_id "${systemId}": ${describeCommandStatus(result.pdu.command_status)}`,
          }
        : result.kind === 'timeout'
          ? {
              rawCode: smsLocalRawCodes.timeout,
              rawMessage: `no bind_transceiver_resp within ${bindTimeoutMs} ms`,
            }
          : {
              rawCode: smsLocalRawCodes.notConnected,
              rawMessage: 'the connection closed during bind_transceiver',
            };
    this.#drop(link, failure);
  }

  #scheduleKeepalive(link: Link): void {
    link.keepaliveTimer = setTimeout(() => void this.#keepalive(link), this.#config.enquireLinkIntervalMs);
  }

  /** enquire_link on a quiet link; no answer in time means the link is dead, so it is dropped. */
  async #keepalive(link: Link): Promise<void> {
    if (link.closed || !link.bound) return;
    const { enquireLinkTimeoutMs } = this.#config;
    const result = await this.#request(link, createPdu('enquire_link'), enquireLinkTimeoutMs);
    if (link.closed || !link.bound) return;
    if (result.kind === 'response') {
      this.#scheduleKeepalive(link);
      return;
    }
    this.#drop(link, {
      rawCode: smsLocalRawCodes.connectionLost,
      rawMessage: `no enquire_link_resp within ${enquireLinkTimeoutMs} ms`,
    });
  }

  #onPdu(link: Link, pdu: SmppPdu): void {
    if (link.closed) return;
    if (pdu.isResponse()) {
      const settle = link.pending.get(pdu.sequence_number);
      if (settle !== undefined) {
        settle({ kind: 'response', pdu });
        return;
      }
      // Its request timed out (that send is `unknown`). The message id, if any, lets an operator
      // match the receipt that may still come for it.
      this.#log.warn(
        {
          ...this.#logFields(),
          command: pdu.command,
          sequenceNumber: pdu.sequence_number,
          rawCode: rawCommandStatus(pdu.command_status),
          messageId: pduString(pdu, 'message_id') ?? '',
        },
        'SMPP response arrived after its request timed out',
      );
      return;
    }
    switch (pdu.command) {
      case 'enquire_link':
        this.#reply(link, pdu.response());
        return;
      case 'deliver_sm':
        void this.#onDeliverSm(link, pdu);
        return;
      case 'unbind':
        // The SMSC is going away (maintenance): answer, end the link, and the backoff re-binds.
        this.#reply(link, pdu.response());
        link.bound = false;
        link.failure ??= {
          rawCode: smsLocalRawCodes.notConnected,
          rawMessage: 'the SMSC unbound the session',
        };
        this.#end(link);
        this.#notify();
        return;
      case 'alert_notification':
        return; // has no response PDU
      default:
        this.#reply(
          link,
          createPdu('generic_nack', {
            sequence_number: pdu.sequence_number,
            command_status: commandStatus.ESME_RINVCMDID,
          }),
        );
    }
  }

  /** Answers deliver_sm only once the receipt is handled, so a receipt we could not record comes back. */
  async #onDeliverSm(link: Link, pdu: SmppPdu): Promise<void> {
    let status: number = commandStatus.ESME_RX_T_APPN;
    try {
      const receipt = parseDeliveryReceipt(
        {
          esmClass: pduNumber(pdu, 'esm_class') ?? 0,
          text: pduMessageText(pdu, 'short_message') || pduMessageText(pdu, 'message_payload'),
          receiptedMessageId: pduString(pdu, 'receipted_message_id'),
          messageState: pduNumber(pdu, 'message_state'),
          networkErrorCode: pduBuffer(pdu, 'network_error_code'),
        },
        this.id,
        this.#now(),
      );
      if (receipt === undefined) {
        // Mobile-originated messages are not part of the contract; refusing them would only make the
        // SMSC redeliver forever.
        this.#log.warn(
          { ...this.#logFields(), esmClass: pduNumber(pdu, 'esm_class') ?? 0 },
          'deliver_sm is not a delivery receipt; acknowledged and dropped',
        );
        status = commandStatus.ESME_ROK;
      } else {
        status = await this.#dispatchReceipt(receipt);
      }
    } catch (error) {
      this.#log.error({ ...this.#logFields(), error: String(error) }, 'deliver_sm could not be handled');
    }
    this.#reply(link, pdu.response({ command_status: status }));
  }

  async #dispatchReceipt(receipt: SmsDeliveryReceipt): Promise<number> {
    const listeners = [...this.#listeners];
    const fields = {
      ...this.#logFields(),
      gatewayReference: receipt.gatewayReference,
      rawStatus: receipt.rawStatus,
    };
    if (listeners.length === 0) {
      this.#log.warn(fields, 'no delivery receipt listener; the SMSC will redeliver the receipt');
      return commandStatus.ESME_RX_T_APPN;
    }
    const handled = Promise.allSettled(
      listeners.map((listener) => Promise.resolve().then(() => listener(receipt))),
    );
    const timeoutMs = this.#config.receiptHandlerTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const results = await Promise.race([handled, timedOut]);
    clearTimeout(timer);
    if (results === 'timeout') {
      this.#log.warn(fields, `delivery receipt listeners took over ${timeoutMs} ms; the SMSC will redeliver`);
      return commandStatus.ESME_RX_T_APPN;
    }
    const failures = results.filter((result) => result.status === 'rejected');
    if (failures.length > 0) {
      this.#log.warn(
        { ...fields, errors: failures.map((failure) => String(failure.reason)) },
        'a delivery receipt listener failed; the SMSC will redeliver',
      );
      return commandStatus.ESME_RX_T_APPN;
    }
    return commandStatus.ESME_ROK;
  }

  #reply(link: Link, pdu: SmppPdu): void {
    if (link.closed) return;
    try {
      link.session.send(pdu);
    } catch (error) {
      this.#log.error({ command: pdu.command, error: String(error) }, 'SMPP response could not be encoded');
    }
  }

  /** Ends a link at once; 'close' follows and decides what next. */
  #drop(link: Link, failure: Failure | undefined): void {
    link.failure ??= failure;
    link.bound = false;
    link.session.destroy();
  }

  /** Ends a link gracefully (FIN after pending writes), destroying it if it lingers. */
  #end(link: Link): void {
    link.session.close();
    setTimeout(() => {
      if (!link.closed) link.session.destroy();
    }, this.#config.unbindTimeoutMs).unref();
  }

  #onLinkClosed(link: Link): void {
    if (link.closed) return;
    link.closed = true;
    clearTimeout(link.connectTimer);
    clearTimeout(link.keepaliveTimer);
    const wasBound = link.bound;
    link.bound = false;
    for (const settle of [...link.pending.values()]) settle({ kind: 'lost' });
    link.markClosed();
    if (this.#link !== link) return;
    this.#link = undefined;
    const detail = link.socketError === undefined ? '' : `: ${link.socketError}`;
    this.#lastFailure = link.failure ?? {
      rawCode: smsLocalRawCodes.notConnected,
      rawMessage: wasBound
        ? `the SMSC closed the connection${detail}`
        : `could not connect to ${this.#where()}${detail}`,
    };
    if (this.#state === 'closing' || this.#state === 'closed') {
      this.#notify();
      return;
    }
    const delayMs = this.#backoffDelayMs();
    this.#log.warn(
      {
        ...this.#logFields(),
        rawCode: this.#lastFailure.rawCode,
        reason: this.#lastFailure.rawMessage,
        delayMs,
      },
      'SMPP session lost; reconnecting',
    );
    this.#setState('backoff');
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#state === 'backoff') this.#connect();
    }, delayMs);
    this.#reconnectTimer.unref();
  }

  /** Exponential with jitter, so many gateways restarting together do not reconnect in step. */
  #backoffDelayMs(): number {
    const { reconnectDelayMinMs, reconnectDelayMaxMs } = this.#config;
    const exponent = Math.min(this.#reconnectAttempt, BACKOFF_EXPONENT_MAX);
    this.#reconnectAttempt++;
    const ceiling = Math.min(reconnectDelayMaxMs, reconnectDelayMinMs * 2 ** exponent);
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  async #shutdown(): Promise<void> {
    this.#setState('closing');
    clearTimeout(this.#reconnectTimer);
    const link = this.#link;
    if (link !== undefined && !link.closed) {
      const closed = { rawCode: smsLocalRawCodes.closed, rawMessage: 'gateway closed' };
      if (link.bound) {
        link.bound = false;
        clearTimeout(link.keepaliveTimer);
        await this.#request(link, createPdu('unbind'), this.#config.unbindTimeoutMs);
        link.failure ??= closed;
        this.#end(link);
      } else {
        this.#drop(link, closed); // still connecting or binding: nothing to say goodbye to
      }
      await link.closedPromise;
    }
    this.#log.info(this.#logFields(), 'SMPP gateway closed');
    this.#setState('closed');
  }

  // ---- waiting ----

  #setState(state: SmppConnectionState): void {
    this.#state = state;
    this.#notify();
  }

  #notify(): void {
    for (const wake of [...this.#changeWaiters]) wake();
  }

  #nextChange(deadline: number, signal: AbortSignal | undefined): Promise<WaitResult> {
    return new Promise((resolve) => {
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0) return resolve('timeout');
      if (signal?.aborted) return resolve('aborted');
      const done = (result: WaitResult): void => {
        clearTimeout(timer);
        this.#changeWaiters.delete(onChange);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const onChange = (): void => done('changed');
      const onAbort = (): void => done('aborted');
      const timer = setTimeout(() => done('timeout'), remainingMs);
      this.#changeWaiters.add(onChange);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #where(): string {
    return `${this.#config.host}:${this.#config.port}`;
  }

  /** Never the password. */
  #logFields(): Readonly<Record<string, unknown>> {
    return {
      gateway: this.id,
      host: this.#config.host,
      port: this.#config.port,
      systemId: this.#config.systemId,
    };
  }
}

// Compile-time check that the class has the static shape every gateway class has.
const _smppGatewayClass: SmsGatewayClass<SmppGatewayConfig> = SmppSmsGateway;
