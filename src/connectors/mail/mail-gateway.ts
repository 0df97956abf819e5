import nodemailer from 'nodemailer';
import type { Secret } from '../../core/secrets/secrets.js';

/**
 * The mail gateway connector. `sandbox` sends nothing (the outbox keeps every message and the portal
 * shows it); `smtp` sends through nodemailer to the configured server. One contract, so the code that
 * writes mail never knows which is in use.
 */
export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export type MailSendResult = { ok: true } | { ok: false; error: string };

export interface MailGateway {
  readonly id: 'sandbox' | 'smtp';
  send(message: MailMessage): Promise<MailSendResult>;
  close(): Promise<void>;
}

export const sandboxMailGateway: MailGateway = {
  id: 'sandbox',
  send: () => Promise.resolve({ ok: true }),
  close: () => Promise.resolve(),
};

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  /** Implicit TLS (smtps://); otherwise STARTTLS when the server offers it. */
  readonly secure: boolean;
  readonly user: string | undefined;
  readonly password: Secret | undefined;
  readonly from: string;
  /** Accept self-signed certificates (tests and local relays only). */
  readonly allowInsecureTls?: boolean;
}

/** Every SMTP exchange has a time limit: a hung server never holds a request. */
export const smtpTimeoutMs = 10_000;

export function smtpMailGateway(settings: SmtpSettings): MailGateway {
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    ...(settings.user && settings.password
      ? { auth: { user: settings.user, pass: settings.password.reveal() } }
      : {}),
    connectionTimeout: smtpTimeoutMs,
    greetingTimeout: smtpTimeoutMs,
    socketTimeout: smtpTimeoutMs,
    ...(settings.allowInsecureTls ? { tls: { rejectUnauthorized: false } } : {}),
  });
  return {
    id: 'smtp',
    async send(message) {
      try {
        await transport.sendMail({
          from: settings.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
        });
        return { ok: true };
      } catch (error) {
        return { ok: false, error: error instanceof Error ? error.message : String(error) };
      }
    },
    close: () => {
      transport.close();
      return Promise.resolve();
    },
  };
}
