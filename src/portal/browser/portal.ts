// The portal's and console's one island (bundled by esbuild into /assets/portal/portal.js): forms that
// call the native API with the session's CSRF token and show the API's own error messages inline, copy
// buttons, local dates, credentials shown once, and Try It. No inline script anywhere (strict CSP).

interface Problem {
  detail?: string;
  code?: string;
  errors?: { field: string; message: string }[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function csrf(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
}

function randomKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function fieldName(pointer: string): string {
  const path = pointer.replace(/^[a-z]+:/, '');
  return path.replace(/^\//, '').split('/')[0] ?? '';
}

function formBody(form: HTMLFormElement): Record<string, Json> {
  const body: Record<string, Json> = {};
  for (const element of Array.from(form.elements)) {
    if (!(
      element instanceof HTMLInputElement ||
      element instanceof HTMLSelectElement ||
      element instanceof HTMLTextAreaElement
    ))
      continue;
    if (!element.name || element.disabled) continue;
    if (element instanceof HTMLInputElement && element.type === 'checkbox') {
      body[element.name] = element.checked;
      continue;
    }
    const value = element.value;
    if (value === '' && element.dataset.optional !== undefined) continue;
    if (element.dataset.type === 'boolean') body[element.name] = value === 'true';
    else if (element.dataset.type === 'number' && value !== '' && /^-?\d+$/.test(value))
      body[element.name] = Number(value);
    else if (element.dataset.type === 'json') {
      try {
        body[element.name] = JSON.parse(value) as Json;
      } catch {
        body[element.name] = value;
      }
    } else body[element.name] = value;
  }
  return body;
}

function clearErrors(form: HTMLFormElement): void {
  form.querySelectorAll<HTMLElement>('[data-error-for]').forEach((el) => (el.textContent = ''));
  form.querySelectorAll<HTMLElement>('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  const general = form.querySelector<HTMLElement>('[data-form-error]');
  if (general) general.textContent = '';
}

function showProblem(form: HTMLFormElement, problem: Problem, status: number): void {
  let placed = false;
  for (const error of problem.errors ?? []) {
    const name = fieldName(error.field);
    const slot = form.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(name)}"]`);
    if (slot) {
      slot.textContent = error.message;
      form.querySelector(`[name="${CSS.escape(name)}"]`)?.setAttribute('aria-invalid', 'true');
      placed = true;
    }
  }
  const general = form.querySelector<HTMLElement>('[data-form-error]');
  const text = problem.detail ?? `The request failed (${status}).`;
  if (general && (!placed || !problem.errors?.length)) general.textContent = text;
  else if (!general && !placed) window.alert(text);
  if (problem.code === 'second_factor_required') {
    form.querySelector<HTMLElement>('[data-totp]')?.removeAttribute('hidden');
    form.querySelector<HTMLInputElement>('input[name="totp"]')?.focus();
  }
}

function storeCredential(
  subscriptionId: string,
  credential: Record<string, Json>,
  fields: Record<string, Json>,
): void {
  const keep: Record<string, Json> = { ...fields };
  for (const key of ['secret', 'username', 'password', 'public_id', 'environment']) {
    if (credential[key] !== undefined) keep[key] = credential[key];
  }
  sessionStorage.setItem(`payloom:cred:${subscriptionId}`, JSON.stringify(keep));
}

function readCredential(subscriptionId: string): Record<string, string> | undefined {
  const raw = sessionStorage.getItem(`payloom:cred:${subscriptionId}`);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as Record<string, string>;
  } catch {
    return undefined;
  }
}

function showSecret(form: HTMLFormElement, body: Record<string, Json>): void {
  const target = document.getElementById(form.dataset.secretTarget ?? '') ?? form.parentElement;
  if (!target) return;
  const extra = (body.fields ?? {}) as Record<string, Json>;
  const credential = { ...((body.credential ?? body) as Record<string, Json>), ...extra };
  const subscription = form.dataset.subscription;
  if (subscription) storeCredential(subscription, credential, extra);
  const labels = JSON.parse(form.dataset.fields ?? '[]') as { key: string; label: string }[];
  const box = document.createElement('div');
  box.className = 'secret-box';
  box.setAttribute('role', 'status');
  const title = document.createElement('p');
  title.textContent =
    'Copy these now: they are shown once. (This browser keeps them for Try It until you close the tab.)';
  box.append(title);
  const fields = labels.length
    ? labels
    : Object.keys(credential)
        .filter((k) => k === 'secret')
        .map((k) => ({ key: k, label: k }));
  for (const field of fields) {
    const raw = credential[field.key];
    if (typeof raw !== 'string' && typeof raw !== 'number') continue;
    const value = String(raw);
    const row = document.createElement('div');
    row.className = 'secret-row';
    const label = document.createElement('span');
    label.textContent = field.label;
    const code = document.createElement('code');
    code.textContent = value;
    code.dataset.secretField = field.key;
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.textContent = 'Copy';
    copy.addEventListener('click', () => void copyText(value, copy));
    row.append(label, code, copy);
    box.append(row);
  }
  target.append(box);
}

async function copyText(text: string, button: HTMLElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Select and copy';
  }
}

async function submitApiForm(form: HTMLFormElement, submitter: HTMLElement | null): Promise<void> {
  const spec = (form.dataset.api ?? '').split(' ');
  const method = spec[0] ?? 'POST';
  const path = spec[1] ?? '';
  const confirmText = form.dataset.confirm;
  if (confirmText && !window.confirm(confirmText)) return;
  clearErrors(form);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-csrf-token': csrf(),
    'idempotency-key': randomKey(),
  };
  if (form.dataset.env) headers['x-payloom-environment'] = form.dataset.env;
  if (submitter instanceof HTMLButtonElement) submitter.disabled = true;
  try {
    const whole = form.querySelector<HTMLTextAreaElement>('textarea[data-whole-body]');
    let payload = JSON.stringify(formBody(form));
    if (whole) {
      try {
        payload = JSON.stringify(JSON.parse(whole.value));
      } catch {
        showProblem(form, { detail: 'The JSON is not valid.' }, 400);
        return;
      }
    }
    const response = await fetch(path, {
      method,
      headers,
      body: payload,
      credentials: 'same-origin',
    });
    const text = await response.text();
    let body: Record<string, Json> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, Json>) : {};
    } catch {
      body = {};
    }
    if (!response.ok) {
      showProblem(form, body, response.status);
      return;
    }
    const then = form.dataset.then ?? 'reload';
    if (then === 'reload') window.location.reload();
    else if (then.startsWith('redirect:')) {
      const next = new URLSearchParams(window.location.search).get('next');
      const target = then.slice('redirect:'.length);
      window.location.assign(
        form.dataset.useNext !== undefined && next && next.startsWith('/') && !next.startsWith('//')
          ? next
          : target,
      );
    } else if (then.startsWith('message:')) {
      const general = form.querySelector<HTMLElement>('[data-form-error]') ?? form;
      const note = document.createElement('p');
      note.className = 'ok';
      note.setAttribute('role', 'status');
      note.textContent = then.slice('message:'.length);
      general.after(note);
    } else if (then === 'secret') {
      showSecret(form, body);
      document.dispatchEvent(new CustomEvent('payloom:credential'));
    } else if (then === 'show-json') {
      const target = document.getElementById(form.dataset.secretTarget ?? '');
      if (target) {
        const pre = document.createElement('pre');
        pre.textContent = JSON.stringify(body, null, 2);
        target.replaceChildren(pre);
      }
    }
    if (form.dataset.reset !== undefined) form.reset();
  } finally {
    if (submitter instanceof HTMLButtonElement) submitter.disabled = false;
  }
}

function localizeDates(root: ParentNode): void {
  root.querySelectorAll<HTMLTimeElement>('time[data-local]').forEach((el) => {
    const date = new Date(el.dateTime);
    if (!Number.isNaN(date.getTime())) {
      el.textContent = date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
      el.title = el.dateTime;
    }
  });
}

// ---- Try It --------------------------------------------------------------------------------------

interface TryItMethod {
  name: string;
  httpMethod: string;
  path: string;
  summary: string;
  headers: Record<string, string>;
  exampleBody?: Json;
  basePath?: Record<string, string>;
  learn?: Record<string, string>;
}

interface TryItData {
  environment: string;
  basePath: string;
  methods: TryItMethod[];
  values: Record<string, string | number>;
  subscriptionId: string | null;
  enabled: boolean;
}

function fill(value: Json, values: Record<string, string | number>): Json {
  if (typeof value === 'string') {
    const whole = /^\{\{(\w+)\}\}$/.exec(value);
    if (whole?.[1] && values[whole[1]] !== undefined) return values[whole[1]] as Json;
    return value.replace(/\{\{(\w+)\}\}/g, (match, name: string) => String(values[name] ?? match));
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, values));
  if (value && typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const k of Object.keys(value)) out[k] = fill(value[k] ?? null, values);
    return out;
  }
  return value;
}

/** A JSON object body under a form content type is sent form-encoded (token endpoints want that). */
function wireBody(headers: Record<string, string>, body: string): string {
  const typeKey = Object.keys(headers).find((k) => k.toLowerCase() === 'content-type');
  const type = typeKey === undefined ? '' : (headers[typeKey] ?? '');
  if (!/application\/x-www-form-urlencoded/i.test(type)) return body;
  try {
    const parsed = JSON.parse(body) as Json;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return body;
    const form = new URLSearchParams();
    for (const k of Object.keys(parsed)) {
      const v = parsed[k] ?? null;
      form.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    }
    return form.toString();
  } catch {
    return body;
  }
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function setupTryIt(root: HTMLElement): void {
  const data = JSON.parse(root.dataset.tryit ?? '{}') as TryItData;
  const select = root.querySelector<HTMLSelectElement>('#tryit-method');
  const headersBox = root.querySelector<HTMLTextAreaElement>('#tryit-headers');
  const bodyBox = root.querySelector<HTMLTextAreaElement>('#tryit-body');
  const urlBox = root.querySelector<HTMLElement>('#tryit-url');
  const send = root.querySelector<HTMLButtonElement>('#tryit-send');
  const curl = root.querySelector<HTMLButtonElement>('#tryit-curl');
  const out = root.querySelector<HTMLElement>('#tryit-result');
  const credState = root.querySelector<HTMLElement>('#tryit-credentials');
  if (!select || !headersBox || !bodyBox || !urlBox || !send || !curl || !out) return;
  // Values learned from responses (pinId, txid) survive a visit to the sandbox phone in this tab.
  const learnedKey = `payloom:learned:${data.environment}`;
  const learned: Record<string, string | number> = (() => {
    try {
      return JSON.parse(sessionStorage.getItem(learnedKey) ?? '{}') as Record<string, string | number>;
    } catch {
      return {};
    }
  })();

  const values = (): Record<string, string | number> => {
    const stored = data.subscriptionId && data.enabled ? readCredential(data.subscriptionId) : undefined;
    return { ...data.values, ...(stored ?? {}), ...learned };
  };
  const urlOf = (method: TryItMethod, v: Record<string, string | number>): string => {
    const path = fill(method.path, v);
    const base = method.basePath?.[data.environment] ?? data.basePath;
    return `${base}${typeof path === 'string' ? path : JSON.stringify(path)}`;
  };
  const current = () => data.methods.find((m) => m.name === select.value) ?? data.methods[0];
  const render = () => {
    const method = current();
    if (!method) return;
    const v = values();
    urlBox.textContent = `${method.httpMethod} ${window.location.origin}${urlOf(method, v)}`;
    headersBox.value = JSON.stringify(fill(method.headers, v), null, 2);
    bodyBox.value =
      method.exampleBody === undefined ? '' : JSON.stringify(fill(method.exampleBody, v), null, 2);
    if (credState) {
      const has = data.subscriptionId ? readCredential(data.subscriptionId) : undefined;
      credState.textContent = has
        ? `Using this subscription's credentials (${String(has.username ?? has.public_id ?? '')}).`
        : data.enabled
          ? 'No credentials in this browser yet: issue them below (shown once), then they fill in here.'
          : '';
    }
  };
  const request = () => {
    const method = current();
    let headers: Record<string, string> = {};
    try {
      headers = JSON.parse(headersBox.value || '{}') as Record<string, string>;
    } catch {
      headers = {};
    }
    return { method, headers, body: bodyBox.value.trim() === '' ? undefined : bodyBox.value };
  };
  select.addEventListener('change', render);
  document.addEventListener('payloom:credential', render);
  curl.addEventListener('click', () => {
    const r = request();
    const method = r.method;
    const headers = r.headers;
    const body = r.body;
    if (!method) return;
    const parts = [
      `curl -X ${method.httpMethod} ${shellQuote(`${window.location.origin}${urlOf(method, values())}`)}`,
    ];
    for (const k of Object.keys(headers)) parts.push(`-H ${shellQuote(`${k}: ${headers[k] ?? ''}`)}`);
    if (body) parts.push(`--data ${shellQuote(wireBody(headers, body))}`);
    const text = parts.join(' \\\n  ');
    const pre = root.querySelector<HTMLElement>('#tryit-curl-text');
    if (pre) pre.textContent = text;
    void copyText(text, curl);
  });
  send.addEventListener('click', () => {
    if (!data.enabled) return;
    const r = request();
    const method = r.method;
    const headers = r.headers;
    const body = r.body;
    if (!method) return;
    const url = urlOf(method, values());
    out.textContent = 'Sending…';
    void (async () => {
      const started = performance.now();
      try {
        const response = await fetch(url, {
          method: method.httpMethod,
          headers,
          credentials: 'omit',
          ...(body !== undefined ? { body: wireBody(headers, body) } : {}),
        });
        const text = await response.text();
        const ms = Math.round(performance.now() - started);
        let pretty = text;
        try {
          const parsed = JSON.parse(text) as Record<string, Json>;
          pretty = JSON.stringify(parsed, null, 2);
          for (const key of ['pinId', 'txid']) {
            const value = parsed[key];
            if (typeof value === 'string') learned[key] = value;
          }
          if (response.ok) {
            const learn = method.learn ?? {};
            for (const name of Object.keys(learn)) {
              const value = parsed[learn[name] ?? ''];
              if (typeof value === 'string' || typeof value === 'number') learned[name] = value;
            }
          }
          sessionStorage.setItem(learnedKey, JSON.stringify(learned));
        } catch {
          // not JSON: shown as text
        }
        const shownHeaders: Record<string, string> = {};
        for (const k of Object.keys(headers)) {
          const v = headers[k] ?? '';
          shownHeaders[k] = /key|secret|authorization/i.test(k) ? `…${v.slice(-4)}` : v;
        }
        const responseHeaders: string[] = [];
        response.headers.forEach((value, name) => responseHeaders.push(`${name}: ${value}`));
        out.replaceChildren();
        const section = (title: string, content: string, id: string) => {
          const h = document.createElement('h3');
          h.textContent = title;
          const pre = document.createElement('pre');
          pre.id = id;
          pre.textContent = content;
          out.append(h, pre);
        };
        section(
          'Request',
          `${method.httpMethod} ${url}\n${JSON.stringify(shownHeaders, null, 2)}\n\n${body ?? ''}`,
          'tryit-out-request',
        );
        section('Status', `${response.status} ${response.statusText} · ${ms} ms`, 'tryit-out-status');
        section('Headers', responseHeaders.join('\n'), 'tryit-out-headers');
        section('Body', pretty, 'tryit-out-body');
      } catch (error) {
        out.textContent = `The request failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    })();
  });
  render();
}

function init(): void {
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.dataset.api === undefined) return;
    event.preventDefault();
    void submitApiForm(form, event.submitter);
  });
  document.addEventListener('click', (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement)) return;
    const copy = target.closest<HTMLElement>('[data-copy]');
    if (copy) {
      const source = document.getElementById(copy.dataset.copy ?? '');
      void copyText(source?.textContent ?? '', copy);
    }
  });
  localizeDates(document);
  document.body.addEventListener('htmx:afterSwap', (event) => {
    const target = event.target;
    if (target instanceof HTMLElement) localizeDates(target.parentElement ?? target);
  });
  const tryIt = document.getElementById('tryit');
  if (tryIt) setupTryIt(tryIt);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
