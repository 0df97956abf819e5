import { sandboxMailGateway, smtpMailGateway, type MailGateway } from '../connectors/mail/mail-gateway.js';
import { consoleApiRoutes } from '../console/api.js';
import { consolePages } from '../console/pages.js';
import type { App, RouteContext } from '../http/app.js';
import { portalApiRoutes } from './api.js';
import { portalPages } from './pages.js';

export function mailGatewayFor(config: RouteContext['config']): MailGateway {
  if (config.mailGateway === 'smtp' && config.smtp) {
    return smtpMailGateway({ ...config.smtp, from: config.mailFrom });
  }
  return sandboxMailGateway;
}

/** The developer portal (/portal), the operator console (/console) and the /v1 routes behind them. */
export async function registerPortal(app: App, ctx: RouteContext): Promise<void> {
  const mail = mailGatewayFor(ctx.config);
  app.addHook('onClose', async () => mail.close());
  portalApiRoutes(app, ctx, { mail });
  consoleApiRoutes(app, ctx);
  portalPages(app, ctx);
  consolePages(app, ctx);
  await Promise.resolve();
}
