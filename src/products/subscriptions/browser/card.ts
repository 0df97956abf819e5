/**
 * The card form inside Payloom's iframe (README.md "Widget"): formats and checks the number (Luhn, brand
 * by range), expiry and CVC as the customer types, sends the card to Payloom only, shows the simulated
 * 3-D Secure challenge, and reports to the parent page at its exact origin.
 */
const app = document.getElementById('app') as HTMLElement;
const session = app.dataset.session ?? '';
const parentOrigin = app.dataset.parentOrigin ?? '';
const base = app.dataset.base ?? '';
const form = document.getElementById('card-form') as HTMLFormElement;
const $ = (id: string) => document.getElementById(id) as HTMLInputElement;
const number = $('number');
const expiry = $('expiry');
const cvc = $('cvc');
let busy = false;

const tell = (message: Record<string, unknown>) => parent.postMessage(message, parentOrigin);
const resize = () => tell({ type: 'smartpay:resize', height: document.documentElement.scrollHeight });

const digits = (s: string) => s.replace(/\D/g, '');
function luhn(d: string): boolean {
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let n = Number(d[d.length - 1 - i]);
    if (i % 2) n = n * 2 > 9 ? n * 2 - 9 : n * 2;
    sum += n;
  }
  return sum % 10 === 0;
}
function brand(d: string): string {
  if (/^4/.test(d)) return 'Visa';
  if (/^(5[1-5]|2(2[2-9][1-9]|[3-6]|7[01]|720))/.test(d)) return 'Mastercard';
  if (/^3[47]/.test(d)) return 'American Express';
  return '';
}
function show(id: string, text: string): boolean {
  const el = document.getElementById(`${id}-error`);
  if (el) el.textContent = text;
  const input = document.getElementById(id);
  input?.setAttribute('aria-invalid', text ? 'true' : 'false');
  return !text;
}
function checkNumber(final: boolean): boolean {
  const d = digits(number.value);
  const b = brand(d);
  ($('brand') as HTMLElement).textContent = b;
  const complete = b === 'American Express' ? d.length === 15 : d.length >= 16;
  if (!d) return show('number', final ? 'Enter the card number.' : '');
  if (!b) return show('number', 'Visa, Mastercard or American Express only.');
  if ((complete || final) && !luhn(d)) return show('number', 'This card number is not valid.');
  if (final && !complete) return show('number', 'The card number is too short.');
  return show('number', '');
}
function checkExpiry(final: boolean): boolean {
  const m = /^(\d{2})\/(\d{2})$/.exec(expiry.value);
  if (!m) return show('expiry', final || expiry.value.length >= 5 ? 'Use MM/YY.' : '');
  const month = Number(m[1]);
  const year = 2000 + Number(m[2]);
  const now = new Date();
  if (month < 1 || month > 12) return show('expiry', 'The month is not valid.');
  if (year < now.getFullYear() || (year === now.getFullYear() && month < now.getMonth() + 1))
    return show('expiry', 'The card has expired.');
  return show('expiry', '');
}
function checkCvc(final: boolean): boolean {
  const want = brand(digits(number.value)) === 'American Express' ? 4 : 3;
  if (digits(cvc.value).length !== want)
    return show('cvc', final || cvc.value.length >= want ? `Enter the ${want}-digit security code.` : '');
  return show('cvc', '');
}

number?.addEventListener('input', () => {
  number.value = digits(number.value)
    .slice(0, 19)
    .replace(/(\d{4})(?=\d)/g, '$1 ');
  checkNumber(false);
});
expiry?.addEventListener('input', () => {
  const d = digits(expiry.value).slice(0, 4);
  expiry.value = d.length > 2 ? `${d.slice(0, 2)}/${d.slice(2)}` : d;
  checkExpiry(false);
});
cvc?.addEventListener('input', () => {
  cvc.value = digits(cvc.value).slice(0, 4);
  checkCvc(false);
});
for (const radio of Array.from(document.querySelectorAll<HTMLInputElement>('input[name=option]'))) {
  radio.addEventListener('change', () => {
    (document.getElementById('new-card') as HTMLElement).hidden = radio.value !== 'new';
    resize();
  });
}

function selected(): string {
  return document.querySelector<HTMLInputElement>('input[name=option]:checked')?.value ?? 'new';
}

async function send(path: string, body: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ session, ...body }),
  });
  const answer = (await response.json()) as {
    status?: string;
    result?: unknown;
    verificationId?: string;
    code?: string;
    message?: string;
  };
  if (answer.status === 'stored') return tell({ type: 'smartpay:success', data: answer.result });
  if (answer.status === 'challenge' && answer.verificationId) {
    form.hidden = true;
    const panel = document.getElementById('challenge') as HTMLElement;
    panel.hidden = false;
    resize();
    (document.getElementById('challenge-complete') as HTMLButtonElement).onclick = () =>
      void run(() => send(`/challenges/${answer.verificationId ?? ''}`, {}));
    return;
  }
  (document.getElementById('form-error') as HTMLElement).textContent =
    answer.message ?? 'The card could not be saved.';
  tell({ type: 'smartpay:error', code: answer.code ?? 'ERROR_UNAVAILABLE', message: answer.message ?? '' });
}

async function run(work: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  tell({ type: 'smartpay:busy', busy: true });
  try {
    await work();
  } catch {
    tell({ type: 'smartpay:error', code: 'ERROR_UNAVAILABLE', message: 'Network error; try again.' });
  } finally {
    busy = false;
    tell({ type: 'smartpay:busy', busy: false });
    resize();
  }
}

function submit(): void {
  const option = selected();
  if (option !== 'new') {
    void run(() => send('/stored-cards', { storedPaymentOptionReference: option }));
    return;
  }
  const ok = [checkNumber(true), checkExpiry(true), checkCvc(true)].every(Boolean);
  resize();
  if (!ok) {
    tell({ type: 'smartpay:error', code: 'ERROR_INVALID_INPUT', message: 'Check the card details.' });
    return;
  }
  const parts = expiry.value.split('/');
  const month = parts[0] ?? '';
  const year = parts[1] ?? '';
  void run(() =>
    send('/cards', {
      number: digits(number.value),
      expiryMonth: Number(month),
      expiryYear: 2000 + Number(year),
      cvc: cvc.value,
    }),
  );
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  submit();
});
addEventListener('message', (e: MessageEvent) => {
  if (e.origin !== parentOrigin || e.source !== parent) return;
  if ((e.data as { type?: string }).type === 'smartpay:submit') submit();
});
resize();
tell({ type: 'smartpay:ready' });
