import type { SmsTemplates } from '../../core/sms/templates.js';

/** PIN and payment-confirmation SMS, per language (English fallback). Variables in `{braces}`. */
export const pinTemplates: SmsTemplates = {
  en: '{code} is your PIN to buy {service} from {merchant} for {amount}. Valid 5 minutes. Help: {support}',
  da: '{code} er din PIN-kode til køb af {service} fra {merchant} for {amount}. Gyldig i 5 min. Hjælp: {support}',
  de: '{code} ist Ihre PIN für {service} von {merchant} zu {amount}. 5 Minuten gültig. Hilfe: {support}',
  fr: '{code} est votre code pour acheter {service} chez {merchant} pour {amount}. Valable 5 min. Aide: {support}',
  ar: '{code} هو رمزك لشراء {service} من {merchant} مقابل {amount}. صالح 5 دقائق. مساعدة: {support}',
};

export const confirmationTemplates: SmsTemplates = {
  en: 'You paid {amount} to {merchant} for {service}. It is charged to your phone bill. Help: {support}',
  da: 'Du har betalt {amount} til {merchant} for {service} via din telefonregning. Hjælp: {support}',
  de: 'Sie haben {amount} an {merchant} für {service} bezahlt (über Ihre Handyrechnung). Hilfe: {support}',
  fr: 'Vous avez payé {amount} à {merchant} pour {service} sur votre facture mobile. Aide: {support}',
  ar: 'دفعت {amount} إلى {merchant} مقابل {service} على فاتورة هاتفك. مساعدة: {support}',
};

/** Merchant compliance messages (`SendMessageWithCampaign`): the merchant's own text. */
export const merchantMessageTemplates: SmsTemplates = { en: '{text}' };
