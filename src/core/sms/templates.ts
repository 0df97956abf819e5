import { AppError } from '../errors/errors.js';

/**
 * SMS templates per purpose and language. Each purpose's owner (a product, or core) defines its
 * templates; `{name}` placeholders are filled from variables. A language without its own text falls
 * back to English.
 */
export type SmsTemplates = Readonly<Record<string, string>> & { readonly en: string };

export const fallbackLanguage = 'en';

export function renderSmsTemplate(
  templates: SmsTemplates,
  language: string,
  vars: Readonly<Record<string, string>>,
): string {
  const template =
    templates[language.toLowerCase()] ?? templates[language.toLowerCase().slice(0, 2)] ?? templates.en;
  return template.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const value = vars[name];
    if (value === undefined)
      throw new AppError('validation_failed', `SMS template needs "${name}".`, { field: name });
    return value;
  });
}

/** The language a template was rendered in (for the outbox row). */
export function templateLanguage(templates: SmsTemplates, language: string): string {
  const lower = language.toLowerCase();
  if (templates[lower] !== undefined) return lower;
  if (templates[lower.slice(0, 2)] !== undefined) return lower.slice(0, 2);
  return fallbackLanguage;
}
