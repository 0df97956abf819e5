import type { AddressInfo } from 'node:net';
import {
  createPdu,
  createSmppServer,
  pduMessageText,
  pduNumber,
  pduString,
  pduUdh,
  type SmppPdu,
  type SmppServer,
  type SmppSession,
} from './smpp-pdu.js';
import { commandStatus } from './transform.js';

/**
 * A real SMSC for tests, on node-smpp's server, listening on 127.0.0.1 and an ephemeral port. It checks
 * bind credentials, answers submit_sm by destination ending (the same magic endings as the sandbox
 * gateway) and then sends a delivery receipt, and records everything a test may assert on.
 */
export const testSmscMagic = {
  /** submit_sm_resp ESME_RINVDSTADR. */
  invalidDestination: '0091',
  /** submit_sm_resp ESME_RTHROTTLED. */
  throttled: '0092',
  /** Accepted, then an UNDELIV receipt. */
  undeliverable: '0093',
  /** Never answered. */
  silent: '0094',
  /** Accepted, then an EXPIRED receipt. */
  expired: '0096',
} as const;

export interface TestSmscSubmit {
  readonly sourceAddr: string;
  readonly sourceTon: number;
  readonly sourceNpi: number;
  readonly destinationAddr: string;
  readonly destTon: number;
  readonly destNpi: number;
  readonly esmClass: number;
  readonly dataCoding: number;
  readonly registeredDelivery: number;
  /** Information elements of the UDH (IEI, length, data), if any. */
  readonly udh: readonly Buffer[];
  /** The text as the library decoded it from short_message (or message_payload when used). */
  readonly text: string;
  readonly viaMessagePayload: boolean;
  /** The message id answered, if the submit was accepted. */
  readonly messageId: string | undefined;
}

export interface TestSmscBind {
  readonly command: string;
  readonly systemId: string;
  readonly interfaceVersion: number | undefined;
  readonly accepted: boolean;
}

interface SessionState {
  bound: boolean;
  /** Our requests to the ESME awaiting a response, by sequence number. */
  readonly waiting: Map<number, (pdu: SmppPdu) => void>;
}

const WAIT_MS_DEFAULT = 3_000;
/** Receipt dates are fixed: tests assert on them and SMSCs send local time anyway. */
const RECEIPT_DATES = 'submit date:2603011200 done date:2603011201';

export class TestSmsc {
  readonly submits: TestSmscSubmit[] = [];
  readonly binds: TestSmscBind[] = [];
  readonly deliverSmResponses: { readonly messageId: string; readonly commandStatus: number }[] = [];
  readonly enquireLinksReceived: number[] = [];
  readonly unbindsReceived: number[] = [];
  /** When false, enquire_link from the ESME goes unanswered (a dead link). */
  answerEnquireLink = true;
  /** How receipts carry their data: the short_message text, the TLVs, or both. */
  receiptFormat: 'text' | 'tlv' | 'both' = 'text';

  readonly #server: SmppServer;
  readonly #systemId: string;
  readonly #password: string;
  readonly #sessions = new Map<SmppSession, SessionState>();
  readonly #changeWaiters = new Set<() => void>();
  #messageCounter = 0;

  private constructor(credentials: { readonly systemId: string; readonly password: string }) {
    this.#systemId = credentials.systemId;
    this.#password = credentials.password;
    this.#server = createSmppServer((session) => this.#onSession(session));
  }

  static async start(credentials: {
    readonly systemId: string;
    readonly password: string;
  }): Promise<TestSmsc> {
    const smsc = new TestSmsc(credentials);
    await new Promise<void>((resolve, reject) => {
      smsc.#server.once('error', reject);
      smsc.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return smsc;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get boundSessions(): number {
    return [...this.#sessions.values()].filter((state) => state.bound).length;
  }

  /** Resolves with the first truthy value of `check`, re-checked on every SMSC event; bounded. */
  waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = WAIT_MS_DEFAULT): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = (): boolean => {
        const value = check();
        if (value === undefined || value === false) return false;
        clearTimeout(timer);
        this.#changeWaiters.delete(onChange);
        resolve(value);
        return true;
      };
      const onChange = (): void => {
        attempt();
      };
      const timer = setTimeout(() => {
        this.#changeWaiters.delete(onChange);
        reject(new Error(`test SMSC: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      if (!attempt()) this.#changeWaiters.add(onChange);
    });
  }

  /** Cuts every connection without a word, as a crashed SMSC or a dropped network would. */
  dropConnections(): void {
    for (const session of this.#sessions.keys()) session.destroy();
  }

  /** Sends unbind to every bound ESME, as an SMSC going down for maintenance does. */
  unbindAll(): void {
    for (const [session, state] of this.#sessions) if (state.bound) session.send(createPdu('unbind'));
  }

  /** Sends enquire_link to every bound ESME; resolves with the response statuses. */
  async enquireLinkAll(): Promise<number[]> {
    const bound = [...this.#sessions].filter(([, state]) => state.bound);
    return Promise.all(
      bound.map(([session, state]) => this.#request(session, state, createPdu('enquire_link'))),
    );
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #changed(): void {
    for (const wake of [...this.#changeWaiters]) wake();
  }

  #request(session: SmppSession, state: SessionState, pdu: SmppPdu): Promise<number> {
    return new Promise((resolve) => {
      session.send(pdu);
      state.waiting.set(pdu.sequence_number, (response) => resolve(response.command_status));
    });
  }

  #onSession(session: SmppSession): void {
    const state: SessionState = { bound: false, waiting: new Map() };
    this.#sessions.set(session, state);
    session.on('error', () => undefined); // a client that vanishes is normal here
    session.on('close', () => {
      this.#sessions.delete(session);
      this.#changed();
    });
    session.on('pdu', (pdu) => {
      this.#onPdu(session, state, pdu);
      this.#changed();
    });
  }

  #onPdu(session: SmppSession, state: SessionState, pdu: SmppPdu): void {
    if (pdu.isResponse()) {
      const waiter = state.waiting.get(pdu.sequence_number);
      state.waiting.delete(pdu.sequence_number);
      waiter?.(pdu);
      return;
    }
    switch (pdu.command) {
      case 'bind_transceiver':
      case 'bind_transmitter':
      case 'bind_receiver':
        return this.#onBind(session, state, pdu);
      case 'submit_sm':
        return this.#onSubmit(session, state, pdu);
      case 'enquire_link':
        this.enquireLinksReceived.push(Date.now());
        if (this.answerEnquireLink) session.send(pdu.response());
        return;
      case 'unbind':
        this.unbindsReceived.push(Date.now());
        state.bound = false;
        session.send(pdu.response());
        session.close();
        return;
      default:
        session.send(pdu.response({ command_status: commandStatus.ESME_RINVCMDID }));
    }
  }

  #onBind(session: SmppSession, state: SessionState, pdu: SmppPdu): void {
    const systemId = pduString(pdu, 'system_id') ?? '';
    const status =
      systemId !== this.#systemId
        ? commandStatus.ESME_RINVSYSID
        : pduString(pdu, 'password') !== this.#password
          ? commandStatus.ESME_RINVPASWD
          : commandStatus.ESME_ROK;
    state.bound = status === commandStatus.ESME_ROK;
    this.binds.push({
      command: pdu.command,
      systemId,
      interfaceVersion: pduNumber(pdu, 'interface_version'),
      accepted: state.bound,
    });
    session.send(
      pdu.response(
        status === commandStatus.ESME_ROK ? { system_id: 'TESTSMSC' } : { command_status: status },
      ),
    );
    // A refused bind is followed by the SMSC closing the connection, as real SMSCs do.
    if (!state.bound) session.close();
  }

  #onSubmit(session: SmppSession, state: SessionState, pdu: SmppPdu): void {
    const destinationAddr = pduString(pdu, 'destination_addr') ?? '';
    const payloadText = pduMessageText(pdu, 'message_payload');
    const record = (messageId: string | undefined): void => {
      this.submits.push({
        sourceAddr: pduString(pdu, 'source_addr') ?? '',
        sourceTon: pduNumber(pdu, 'source_addr_ton') ?? -1,
        sourceNpi: pduNumber(pdu, 'source_addr_npi') ?? -1,
        destinationAddr,
        destTon: pduNumber(pdu, 'dest_addr_ton') ?? -1,
        destNpi: pduNumber(pdu, 'dest_addr_npi') ?? -1,
        esmClass: pduNumber(pdu, 'esm_class') ?? -1,
        dataCoding: pduNumber(pdu, 'data_coding') ?? -1,
        registeredDelivery: pduNumber(pdu, 'registered_delivery') ?? -1,
        udh: pduUdh(pdu),
        text: payloadText ?? pduMessageText(pdu, 'short_message') ?? '',
        viaMessagePayload: payloadText !== undefined,
        messageId,
      });
    };
    if (!state.bound) {
      record(undefined);
      session.send(pdu.response({ command_status: commandStatus.ESME_RINVBNDSTS }));
      return;
    }
    const refusal = destinationAddr.endsWith(testSmscMagic.invalidDestination)
      ? commandStatus.ESME_RINVDSTADR
      : destinationAddr.endsWith(testSmscMagic.throttled)
        ? commandStatus.ESME_RTHROTTLED
        : undefined;
    if (destinationAddr.endsWith(testSmscMagic.silent)) {
      record(undefined);
      return;
    }
    if (refusal !== undefined) {
      record(undefined);
      session.send(pdu.response({ command_status: refusal }));
      return;
    }
    const messageId = (0x5a000000 + ++this.#messageCounter).toString(16);
    record(messageId);
    session.send(pdu.response({ message_id: messageId }));
    const registered = (pduNumber(pdu, 'registered_delivery') ?? 0) & 0x03;
    if (registered === 0) return;
    const outcome = destinationAddr.endsWith(testSmscMagic.undeliverable)
      ? { stat: 'UNDELIV', state: 5, err: '001' }
      : destinationAddr.endsWith(testSmscMagic.expired)
        ? { stat: 'EXPIRED', state: 3, err: '000' }
        : { stat: 'DELIVRD', state: 2, err: '000' };
    // After the response is written, like an SMSC reporting a quick delivery.
    setImmediate(() => {
      if (!state.bound) return;
      const text = `id:${messageId} sub:001 dlvrd:${outcome.state === 2 ? '001' : '000'} ${RECEIPT_DATES} stat:${outcome.stat} err:${outcome.err} text:`;
      const receipt = createPdu('deliver_sm', {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: destinationAddr,
        destination_addr: pduString(pdu, 'source_addr') ?? '',
        esm_class: 0x04,
        data_coding: 0,
        short_message: this.receiptFormat === 'tlv' ? Buffer.alloc(0) : Buffer.from(text, 'ascii'),
        ...(this.receiptFormat === 'text'
          ? {}
          : { receipted_message_id: messageId, message_state: outcome.state }),
      });
      void this.#request(session, state, receipt).then((status) => {
        this.deliverSmResponses.push({ messageId, commandStatus: status });
        this.#changed();
      });
    });
  }
}
