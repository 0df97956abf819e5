import PDFDocument from 'pdfkit';
import type { Environment } from '../../core/db/schema.js';
import {
  httpsUrl,
  limits,
  objectBody,
  onlyFields,
  optionalBool,
  optionalString,
  type Body,
} from './dialect.js';
import { invalid } from './errors.js';

/** Payment attachments (vendor-apis.md §4.4): a URL, or details from which a PDF is generated. */
const detailFields = [
  'document_title',
  'hide_payment_point_address',
  'consumer_name',
  'consumer_address_lines',
  'consumer_phone_number',
  'merchant_contact_name',
  'delivery_address_lines',
  'delivery_date',
  'invoice_number',
  'merchant_order_number',
  'buyer_order_number',
  'issue_date',
  'due_date',
  'order_date',
  'payment_reference',
  'comment',
  'price_reduction',
  'price_discount',
  'bonus',
  'total_amount_ex_vat',
  'total_vat_amount',
  'total_amount',
  'articles',
];
const articleFields = [
  'article_number',
  'article_description',
  'quantity',
  'unit',
  'price_per_unit',
  'vat_rate',
  'total_vat_amount',
  'total_price_including_vat',
];

function numberField(b: Body, field: string, prefix: string, min?: number): void {
  const v = b[field];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' && !(typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)))
    throw invalid(`${prefix}${field}`, 'must be a number');
  if (min !== undefined && Number(v) < min) throw invalid(`${prefix}${field}`, `must be at least ${min}`);
}

export function parseAttachment(raw: unknown, environment: Environment): Record<string, unknown> {
  const b = objectBody(raw);
  onlyFields(b, ['external_attachment_url', 'generate_pdf', 'attachment_details']);
  const url =
    b.external_attachment_url === undefined || b.external_attachment_url === null
      ? null
      : httpsUrl(b.external_attachment_url, 'external_attachment_url', environment);
  const generate = optionalBool(b, 'generate_pdf') ?? false;
  if (url && generate) throw invalid('generate_pdf', 'cannot be true together with external_attachment_url');
  if (!url && !generate) throw invalid('external_attachment_url', 'is required unless generate_pdf is true');
  let details: Body | null = null;
  if (b.attachment_details !== undefined && b.attachment_details !== null) {
    details = objectBody(b.attachment_details, 'attachment_details');
    const p = 'attachment_details.';
    onlyFields(details, detailFields, p);
    optionalString(details, 'document_title', limits.attachmentTitleMax, p);
    optionalString(details, 'payment_reference', limits.paymentReferenceMax, p);
    for (const f of [
      'consumer_name',
      'consumer_phone_number',
      'merchant_contact_name',
      'invoice_number',
      'merchant_order_number',
      'buyer_order_number',
      'comment',
    ]) {
      optionalString(details, f, 1000, p);
    }
    if (details.total_amount === undefined || details.total_amount === null)
      throw invalid(`${p}total_amount`, 'is required');
    numberField(details, 'total_amount', p, 0);
    numberField(details, 'price_reduction', p, 0);
    numberField(details, 'bonus', p, 0);
    for (const f of ['price_discount', 'total_amount_ex_vat', 'total_vat_amount']) numberField(details, f, p);
    const articles = details.articles;
    if (articles !== undefined && articles !== null) {
      if (!Array.isArray(articles) || articles.length === 0)
        throw invalid(`${p}articles`, 'must be a non-empty array');
      for (const [i, a] of articles.entries()) {
        const ap = `${p}articles[${i}].`;
        const article = objectBody(a, `${p}articles[${i}]`);
        onlyFields(article, articleFields, ap);
        if (typeof article.article_description !== 'string' || article.article_description === '')
          throw invalid(`${ap}article_description`, 'is required');
        for (const f of [
          'quantity',
          'price_per_unit',
          'vat_rate',
          'total_vat_amount',
          'total_price_including_vat',
        ])
          numberField(article, f, ap);
      }
    }
  } else if (generate) {
    throw invalid('attachment_details', 'is required when generate_pdf is true');
  }
  return { external_attachment_url: url, generate_pdf: generate, attachment_details: details };
}

function text(value: unknown, fallback = ''): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : fallback;
}

/** The generated PDF (pdfkit): title, merchant, reference, articles and totals. */
export async function attachmentPdf(
  providerName: string,
  paymentId: string,
  body: Record<string, unknown>,
): Promise<Buffer> {
  const details = (body.attachment_details ?? {}) as Record<string, unknown>;
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    info: { Title: text(details.document_title, 'Receipt') },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
  doc.fontSize(20).text(text(details.document_title, 'Receipt'));
  doc.moveDown().fontSize(11).text(providerName);
  doc.text(`Payment ${paymentId}`);
  for (const f of ['invoice_number', 'payment_reference', 'consumer_name', 'comment']) {
    if (typeof details[f] === 'string') doc.text(`${f.replace(/_/g, ' ')}: ${text(details[f])}`);
  }
  doc.moveDown();
  const articles = Array.isArray(details.articles) ? (details.articles as Record<string, unknown>[]) : [];
  for (const a of articles) {
    doc.text(
      `${text(a.quantity, '1')} × ${text(a.article_description)}   ${text(a.total_price_including_vat ?? a.price_per_unit)}`,
    );
  }
  doc
    .moveDown()
    .fontSize(13)
    .text(`Total: ${text(details.total_amount)}`);
  doc.end();
  return done;
}
