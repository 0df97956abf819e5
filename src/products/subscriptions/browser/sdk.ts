/**
 * SmartPay Subscriptions widget SDK (README.md "Widget"): `window.SmartPaySubscriptionsSdk.renderWidget`.
 * Frames Payloom's card form (card data never touches this page) and renders the submit button here;
 * the two talk by postMessage, each checking the other's exact origin and window.
 */
interface Options {
  containerId: string;
  selectedPaymentContainerId?: string;
  submitButtonContainerId: string;
  objectId: string;
  objectType: string;
  termsAndConditionsText?: string;
  successHandler?: (data: Record<string, unknown>) => void;
  errorHandler?: (code: string, message: string) => void;
  locale?: string;
}

const script = document.currentScript as HTMLScriptElement | null;
const src = new URL(script?.src ?? location.href);
const platform = src.origin;
const base = platform + src.pathname.replace(/\/sdk\.js$/, '');

function renderWidget(o: Options): void {
  const fail = (code: string, message: string) => o.errorHandler?.(code, message);
  const root = document.getElementById(o.containerId);
  const buttonBox = document.getElementById(o.submitButtonContainerId);
  if (!root || !buttonBox)
    return fail('ERR_CONFIG', 'containerId and submitButtonContainerId must name elements of the page.');
  if (o.objectType !== 'subscription' && o.objectType !== 'payment-series') {
    return fail('ERR_CONFIG', 'objectType must be "subscription" or "payment-series".');
  }
  const query = new URLSearchParams({ objectId: o.objectId, objectType: o.objectType });
  fetch(`${base}/config?${query}`, { mode: 'cors', credentials: 'omit' })
    .then(async (r) => {
      if (!r.ok) throw new Error(((await r.json()) as { message?: string }).message ?? 'refused');
      query.set('parentOrigin', location.origin);
      query.set('locale', o.locale ?? 'en-US');
      if (o.termsAndConditionsText) query.set('terms', o.termsAndConditionsText);
      const frame = document.createElement('iframe');
      frame.src = `${base}/frame?${query}`;
      frame.title = 'Card details';
      frame.style.cssText = 'width:100%;border:0;min-height:260px';
      root.replaceChildren(frame);
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Save card';
      button.onclick = () => frame.contentWindow?.postMessage({ type: 'smartpay:submit' }, platform);
      buttonBox.replaceChildren(button);
      addEventListener('message', (e: MessageEvent) => {
        if (e.origin !== platform || e.source !== frame.contentWindow) return;
        const m = e.data as {
          type?: string;
          height?: number;
          busy?: boolean;
          data?: Record<string, unknown>;
          code?: string;
          message?: string;
        };
        if (m.type === 'smartpay:resize' && m.height) frame.style.height = `${m.height}px`;
        if (m.type === 'smartpay:busy') button.disabled = Boolean(m.busy);
        if (m.type === 'smartpay:error') fail(m.code ?? 'ERROR_INVALID_INPUT', m.message ?? '');
        if (m.type === 'smartpay:success' && m.data) {
          const selected =
            o.selectedPaymentContainerId && document.getElementById(o.selectedPaymentContainerId);
          if (selected)
            selected.textContent = `${String(m.data.billingAgreementName)} ${String(m.data.shortCardNumber)}`;
          o.successHandler?.(m.data);
        }
      });
    })
    .catch((error: Error) => fail('ERR_CONFIG', error.message));
}

(window as unknown as { SmartPaySubscriptionsSdk: unknown }).SmartPaySubscriptionsSdk = { renderWidget };
