import { describe, expect, it } from 'vitest';
import { Secret } from '../../../core/secrets/secrets.js';
import { parseSmsRequest, type ParsedSmsRequest } from '../request.js';
import { parseSmppGatewayConfig, smppDefaults } from './config.js';
import {
  commandStatus,
  concatenationHeader,
  describeCommandStatus,
  parseDeliveryReceipt,
  parseReceiptText,
  rawCommandStatus,
  submitOutcome,
  submitSmFields,
} from './transform.js';

function parsed(patch: { to?: string; from?: string; text?: string } = {}): ParsedSmsRequest {
  const result = parseSmsRequest({
    reference: 'msg_1',
    to: '4512345678',
    from: 'Payloom',
    text: 'Hi',
    ...patch,
  });
  if (!result.ok) throw new Error(result.outcome.rawMessage);
  return result.request;
}

const options = {
  longMessages: 'udh',
  deliveryReceipts: true,
  sourceTon: undefined,
  sourceNpi: undefined,
  concatenationReference: 0x2a,
} as const;

describe('SMPP submit_sm_resp status → outcome', () => {
  it('maps ESME_ROK to pending when receipts are requested and succeeded when they are not', () => {
    expect(submitOutcome(0, true)).toEqual({
      status: 'pending',
      rawCode: '0x00000000',
      rawMessage: 'ESME_ROK (no error)',
    });
    expect(submitOutcome(0, false).status).toBe('succeeded');
  });

  it('maps throttling and a full queue to not_sent (retry later)', () => {
    expect(submitOutcome(commandStatus.ESME_RTHROTTLED, true)).toMatchObject({
      status: 'not_sent',
      rawCode: '0x00000058',
    });
    expect(submitOutcome(commandStatus.ESME_RMSGQFUL, true).status).toBe('not_sent');
    expect(submitOutcome(commandStatus.ESME_RX_T_APPN, true).status).toBe('not_sent');
  });

  it('maps invalid destination, permanent errors and vendor-specific codes to declined', () => {
    expect(submitOutcome(commandStatus.ESME_RINVDSTADR, true)).toEqual({
      status: 'declined',
      rawCode: '0x0000000B',
      rawMessage: 'ESME_RINVDSTADR (invalid destination address)',
    });
    expect(submitOutcome(commandStatus.ESME_RX_P_APPN, true).status).toBe('declined');
    expect(submitOutcome(0x0401, true)).toMatchObject({ status: 'declined', rawCode: '0x00000401' });
    expect(describeCommandStatus(0x0401)).toMatch(/not an SMPP 3.4 code/);
    expect(rawCommandStatus(0xffffffff)).toBe('0xFFFFFFFF');
  });
});

describe('SMPP submit_sm fields', () => {
  it('addresses an alphanumeric sender as TON 5 / NPI 0 and the MSISDN as international ISDN', () => {
    const [fields] = submitSmFields(parsed(), options);
    expect(fields).toMatchObject({
      source_addr: 'Payloom',
      source_addr_ton: 5,
      source_addr_npi: 0,
      destination_addr: '4512345678',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      registered_delivery: 1,
      data_coding: 0,
      esm_class: 0,
    });
    expect(fields?.short_message).toEqual(Buffer.from('Hi', 'ascii'));
  });

  it('addresses numeric senders by length, and config overrides TON / NPI', () => {
    expect(submitSmFields(parsed({ from: '4599999999' }), options)[0]).toMatchObject({
      source_addr_ton: 1,
      source_addr_npi: 1,
    });
    expect(submitSmFields(parsed({ from: '1919' }), options)[0]).toMatchObject({
      source_addr_ton: 0,
      source_addr_npi: 1,
    });
    expect(submitSmFields(parsed(), { ...options, sourceTon: 3, sourceNpi: 9 })[0]).toMatchObject({
      source_addr_ton: 3,
      source_addr_npi: 9,
    });
  });

  it('asks for no receipt when receipts are off', () => {
    expect(submitSmFields(parsed(), { ...options, deliveryReceipts: false })[0]?.registered_delivery).toBe(0);
  });

  it('splits a long text into submit_sm with a concatenation UDH, the same reference and a sequence', () => {
    const fields = submitSmFields(parsed({ text: 'a'.repeat(200) }), options);
    expect(fields).toHaveLength(2);
    expect(fields.map((f) => f.esm_class)).toEqual([0x40, 0x40]);
    expect(fields.map((f) => [...f.short_message.subarray(0, 6)])).toEqual([
      [0x05, 0x00, 0x03, 0x2a, 2, 1],
      [0x05, 0x00, 0x03, 0x2a, 2, 2],
    ]);
    expect(fields.map((f) => f.short_message.length - 6)).toEqual([153, 47]);
    expect(concatenationHeader(0x1ff, 3, 2)).toEqual(Buffer.from([5, 0, 3, 0xff, 3, 2]));
  });

  it('sends UCS-2 as data_coding 8, UTF-16BE', () => {
    const [fields] = submitSmFields(parsed({ text: 'Код' }), options);
    expect(fields?.data_coding).toBe(8);
    expect(fields?.short_message).toEqual(Buffer.from([0x04, 0x1a, 0x04, 0x3e, 0x04, 0x34]));
  });

  it('puts a long text whole in message_payload, with an empty short_message, when configured', () => {
    const request = parsed({ text: 'a'.repeat(400) });
    const fields = submitSmFields(request, { ...options, longMessages: 'message_payload' });
    expect(fields).toHaveLength(1);
    expect(fields[0]?.short_message.length).toBe(0);
    expect(fields[0]?.message_payload?.length).toBe(400);
    expect(fields[0]?.esm_class).toBe(0);
  });
});

describe('SMPP delivery receipts', () => {
  const at = new Date('2026-03-01T12:00:00Z');
  const text =
    'id:5a000001 sub:001 dlvrd:001 submit date:2603011200 done date:2603011201 stat:DELIVRD err:000 text:Your code';

  it('parses the Appendix B text format', () => {
    expect(parseReceiptText(text)).toEqual({
      id: '5a000001',
      stat: 'DELIVRD',
      err: '000',
      doneDate: '2603011201',
    });
    expect(parseReceiptText('ID:77 STAT:undeliv ERR:5 Text:stat:DELIVRD')).toEqual({
      id: '77',
      stat: 'UNDELIV',
      err: '5',
    });
  });

  it('turns a receipt deliver_sm into a receipt for the message id', () => {
    const receipt = parseDeliveryReceipt(
      {
        esmClass: 0x04,
        text,
        receiptedMessageId: undefined,
        messageState: undefined,
        networkErrorCode: undefined,
      },
      'smpp',
      at,
    );
    expect(receipt).toEqual({
      gatewayId: 'smpp',
      gatewayReference: '5a000001',
      status: 'delivered',
      final: true,
      rawStatus: 'DELIVRD',
      rawErrorCode: '000',
      at,
      rawDoneAt: '2603011201',
    });
  });

  it('prefers the TLVs (exact) over the text (decoded by the SMSC alphabet)', () => {
    const receipt = parseDeliveryReceipt(
      {
        esmClass: 0x04,
        text: 'id:abc§1 stat:DELIVRD',
        receiptedMessageId: 'abc_1',
        messageState: 5,
        networkErrorCode: undefined,
      },
      'smpp',
      at,
    );
    expect(receipt).toMatchObject({ gatewayReference: 'abc_1', status: 'failed', rawStatus: 'DELIVRD' });
    const tlvOnly = parseDeliveryReceipt(
      {
        esmClass: 0x04,
        text: '',
        receiptedMessageId: 'x1',
        messageState: 3,
        networkErrorCode: Buffer.from([3, 0, 1]),
      },
      'smpp',
      at,
    );
    expect(tlvOnly).toMatchObject({
      gatewayReference: 'x1',
      status: 'expired',
      rawStatus: 'EXPIRED',
      rawErrorCode: '030001',
    });
  });

  it('maps every stat word', () => {
    const statusOf = (stat: string) =>
      parseDeliveryReceipt(
        {
          esmClass: 0x04,
          text: `id:1 stat:${stat}`,
          receiptedMessageId: undefined,
          messageState: undefined,
          networkErrorCode: undefined,
        },
        'smpp',
        at,
      )?.status;
    expect(
      [
        'DELIVRD',
        'EXPIRED',
        'DELETED',
        'UNDELIV',
        'ACCEPTD',
        'UNKNOWN',
        'REJECTD',
        'ENROUTE',
        'WHATEVER',
      ].map(statusOf),
    ).toEqual([
      'delivered',
      'expired',
      'failed',
      'failed',
      'unknown',
      'unknown',
      'rejected',
      'enroute',
      'unknown',
    ]);
  });

  it('marks an intermediate notification as not final', () => {
    const receipt = parseDeliveryReceipt(
      {
        esmClass: 0x20,
        text: 'id:9 stat:ENROUTE',
        receiptedMessageId: undefined,
        messageState: undefined,
        networkErrorCode: undefined,
      },
      'smpp',
      at,
    );
    expect(receipt).toMatchObject({ status: 'enroute', final: false });
  });

  it('ignores a mobile-originated message and a receipt that names no message', () => {
    const mo = {
      esmClass: 0,
      text: 'id:1 stat:DELIVRD',
      receiptedMessageId: undefined,
      messageState: undefined,
      networkErrorCode: undefined,
    };
    expect(parseDeliveryReceipt(mo, 'smpp', at)).toBeUndefined();
    expect(parseDeliveryReceipt({ ...mo, esmClass: 0x04, text: 'stat:DELIVRD' }, 'smpp', at)).toBeUndefined();
  });
});

describe('SMPP gateway config', () => {
  const settings = { host: 'smsc.example', systemId: 'payloom' };

  it('applies the named defaults and keeps the password wrapped', () => {
    const config = parseSmppGatewayConfig(settings, new Secret('s3cret'));
    expect(config).toMatchObject({ ...settings, port: 2775, deliveryReceipts: true, longMessages: 'udh' });
    expect(config.submitTimeoutMs).toBe(smppDefaults.submitTimeoutMs);
    expect(JSON.stringify(config)).not.toContain('s3cret');
    expect(config.password.reveal()).toBe('s3cret');
  });

  it('rejects unknown fields, bad values and a password in the settings, naming the field', () => {
    expect(() => parseSmppGatewayConfig({ ...settings, port: 0 }, new Secret('x'))).toThrow(/\/port/);
    expect(() => parseSmppGatewayConfig({ ...settings, password: 'x' }, new Secret('x'))).toThrow(/password/);
    expect(() => parseSmppGatewayConfig({ ...settings, systemId: 'x'.repeat(16) }, new Secret('x'))).toThrow(
      /systemId/,
    );
    expect(() => parseSmppGatewayConfig({ ...settings, longMessages: 'sar' }, new Secret('x'))).toThrow(
      /longMessages/,
    );
    expect(() =>
      parseSmppGatewayConfig(
        { ...settings, reconnectDelayMinMs: 500, reconnectDelayMaxMs: 100 },
        new Secret('x'),
      ),
    ).toThrow(/reconnectDelayMaxMs/);
  });

  it('rejects a password longer than SMPP allows without printing it', () => {
    let message = '';
    try {
      parseSmppGatewayConfig(settings, new Secret('toolongpassword'));
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/password is longer than 8/);
    expect(message).not.toContain('toolongpassword');
  });
});
