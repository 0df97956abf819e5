import { describe, expect, it } from 'vitest';
import { describeSmsGatewayConformance } from '../../contracts/sms-gateway.conformance.js';
import type { SmsDeliveryReceipt } from '../../contracts/sms-gateway.js';
import {
  parseSandboxSmsGatewayConfig,
  SandboxSmsGateway,
  sandboxRawCodes,
  sandboxSmsMagic,
} from './sandbox-gateway.js';

const msisdn = (suffix: string): string => `4520${suffix.padStart(6, '5')}`;

describeSmsGatewayConformance('sandbox', () => new SandboxSmsGateway(), {
  from: 'Payloom',
  delivered: msisdn('1234'),
  declined: msisdn(sandboxSmsMagic.declined),
  notSent: msisdn(sandboxSmsMagic.notSent),
  failedReceipt: msisdn(sandboxSmsMagic.failedReceipt),
  unknown: msisdn(sandboxSmsMagic.unknown),
});

function nextReceipt(gateway: SandboxSmsGateway): Promise<SmsDeliveryReceipt> {
  return new Promise((resolve) => {
    const stop = gateway.onDeliveryReceipt((receipt) => {
      stop();
      resolve(receipt);
    });
  });
}

describe('sandbox SMS gateway', () => {
  const send = (gateway: SandboxSmsGateway, to: string) =>
    gateway.send({ reference: 'msg_1', to, from: 'Payloom', text: 'Your code is 1234' });

  it('sends nothing out and answers with a generated sbx_ reference, unique per message', async () => {
    const gateway = new SandboxSmsGateway();
    const first = await send(gateway, msisdn('1234'));
    const second = await send(gateway, msisdn('1234'));
    expect(first).toMatchObject({ status: 'succeeded', rawCode: sandboxRawCodes.accepted });
    expect(first.gatewayReference).toMatch(/^sbx_[0-9a-f]{24}$/);
    expect(second.gatewayReference).not.toBe(first.gatewayReference);
    await gateway.close();
  });

  it('answers pending then delivered for the pending magic ending, like an SMSC with receipts', async () => {
    const gateway = new SandboxSmsGateway();
    const receipt = nextReceipt(gateway);
    const outcome = await send(gateway, msisdn(sandboxSmsMagic.pending));
    expect(outcome.status).toBe('pending');
    expect(await receipt).toMatchObject({ gatewayReference: outcome.gatewayReference, status: 'delivered' });
    await gateway.close();
  });

  it('reports an expired receipt for the expired magic ending', async () => {
    const gateway = new SandboxSmsGateway();
    const receipt = nextReceipt(gateway);
    const outcome = await send(gateway, msisdn(sandboxSmsMagic.expiredReceipt));
    expect(outcome.status).toBe('succeeded');
    expect(await receipt).toMatchObject({ status: 'expired', rawStatus: 'EXPIRED', final: true });
    await gateway.close();
  });

  it('gives the receipt after the sender has its outcome, stamped with the injected clock', async () => {
    const at = new Date('2026-03-01T10:00:00Z');
    const gateway = new SandboxSmsGateway({}, { now: () => at });
    const seen: string[] = [];
    gateway.onDeliveryReceipt(() => {
      seen.push('receipt');
    });
    const receipt = nextReceipt(gateway);
    await send(gateway, msisdn('1234'));
    seen.push('outcome');
    expect((await receipt).at).toEqual(at);
    expect(seen).toEqual(['outcome', 'receipt']);
    await gateway.close();
  });

  it('keeps delivering to other listeners when one throws', async () => {
    const warnings: string[] = [];
    const log = {
      info: () => undefined,
      error: () => undefined,
      warn: (_f: object, m: string) => warnings.push(m),
    };
    const gateway = new SandboxSmsGateway({}, { log });
    gateway.onDeliveryReceipt(() => {
      throw new Error('listener broke');
    });
    const receipt = nextReceipt(gateway);
    await send(gateway, msisdn('1234'));
    expect((await receipt).status).toBe('delivered');
    await gateway.close();
    expect(warnings).toEqual(['sandbox SMS receipt listener failed']);
  });

  it('emits no receipt once closed, even for a message taken just before', async () => {
    const gateway = new SandboxSmsGateway();
    const receipts: SmsDeliveryReceipt[] = [];
    gateway.onDeliveryReceipt((receipt) => {
      receipts.push(receipt);
    });
    await send(gateway, msisdn('1234'));
    await gateway.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(receipts).toEqual([]);
  });

  it('validates its config and can turn receipts off', async () => {
    expect(parseSandboxSmsGatewayConfig({})).toEqual({});
    expect(() => parseSandboxSmsGatewayConfig({ deliveryReceipts: 'yes' })).toThrow(/deliveryReceipts/);
    expect(() => parseSandboxSmsGatewayConfig({ other: 1 })).toThrow(/invalid sandbox SMS gateway config/);
    const gateway = new SandboxSmsGateway(parseSandboxSmsGatewayConfig({ deliveryReceipts: false }));
    const receipts: SmsDeliveryReceipt[] = [];
    gateway.onDeliveryReceipt((receipt) => {
      receipts.push(receipt);
    });
    expect((await send(gateway, msisdn('1234'))).status).toBe('succeeded');
    await new Promise((resolve) => setImmediate(resolve));
    expect(receipts).toEqual([]);
    await gateway.close();
  });
});
