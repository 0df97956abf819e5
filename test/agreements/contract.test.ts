import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';

/**
 * The vendor's OpenAPI (../shared/reference/mobilepay-subscriptions.openapi.yaml, when that folder is
 * present) against Payloom's OpenAPI for the dialect: every path, method, status code and field is
 * covered with a compatible type, and every documented operation is actually routed.
 */
type Schema = Record<string, unknown>;
const here = path.dirname(fileURLToPath(import.meta.url));
const candidates = [
  path.resolve(here, '../../../shared/reference'),
  path.resolve(here, '../../../../shared/reference'),
  '/work/shared/reference',
];
const referenceDir = candidates.find((dir) =>
  existsSync(path.join(dir, 'mobilepay-subscriptions.openapi.yaml')),
);
const vendor = referenceDir
  ? (parse(readFileSync(path.join(referenceDir, 'mobilepay-subscriptions.openapi.yaml'), 'utf8')) as Schema)
  : undefined;
const methods = ['get', 'post', 'put', 'patch', 'delete'] as const;

function resolve(doc: Schema, schema: Schema | undefined): Schema | undefined {
  if (!schema) return undefined;
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  let node: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) node = (node as Schema)[part];
  return resolve(doc, node as Schema);
}

/** Differences where `ours` does not cover `theirs` (missing fields or incompatible types). */
function compare(
  doc: Schema,
  theirsRaw: Schema | undefined,
  ours: Schema | undefined,
  where: string,
): string[] {
  const theirs = resolve(doc, theirsRaw);
  if (!theirs) return [];
  if (!ours) return [`${where}: missing`];
  const tType = theirs.type as string | undefined;
  const oType = ours.type as string | undefined;
  // The vendor's `type: object` without properties (correlation_id) or untyped JSON Patch values: anything.
  if (tType === undefined || (tType === 'object' && theirs.properties === undefined)) return [];
  if (oType === undefined) return [];
  const numeric = (t: string | undefined) => t === 'number' || t === 'integer';
  if (
    tType !== oType &&
    !(numeric(tType) && oType === 'number') &&
    !(tType === 'integer' && oType === 'integer')
  ) {
    return [`${where}: vendor ${tType}, ours ${oType}`];
  }
  if (tType === 'integer' && oType !== 'integer') return [`${where}: vendor integer, ours ${oType}`];
  if (tType === 'array') return compare(doc, theirs.items as Schema, ours.items as Schema, `${where}[]`);
  if (tType === 'object') {
    const props = (theirs.properties ?? {}) as Record<string, Schema>;
    const ourProps = (ours.properties ?? {}) as Record<string, Schema>;
    return Object.entries(props).flatMap(([name, sub]) =>
      compare(doc, sub, ourProps[name], `${where}.${name}`),
    );
  }
  return [];
}

function jsonSchema(content: unknown): Schema | undefined {
  const c = content as Record<string, { schema?: Schema }> | undefined;
  return c?.['application/json']?.schema;
}

let t: TestApp;
let ours: Schema;
beforeAll(async () => {
  t = await startTestApp();
  ours = (await t.request('GET', '/subscriptions/openapi.json')).body as Schema;
});
afterAll(async () => t.close());

describe.runIf(vendor !== undefined)('MobilePay Subscriptions contract (vendor spec)', () => {
  const doc = vendor ?? {};
  const vendorPaths = (doc.paths ?? {}) as Record<string, Record<string, Schema>>;
  const operations = Object.entries(vendorPaths).flatMap(([p, item]) =>
    methods.filter((m) => item[m]).map((m) => ({ path: p, method: m, op: item[m] as Schema })),
  );

  it('has the 27 operations of the vendor spec', () => {
    expect(operations).toHaveLength(27);
  });

  it('covers every path, method and status code', () => {
    const paths = ours.paths as Record<string, Record<string, Schema>>;
    const missing: string[] = [];
    for (const { path: p, method, op } of operations) {
      const mine = paths[p.replace(/\{(\w+)\}/g, (_m, name: string) => `{${name.toLowerCase()}}`)]?.[method];
      if (!mine) {
        missing.push(`${method.toUpperCase()} ${p}`);
        continue;
      }
      for (const status of Object.keys(op.responses as Schema)) {
        if (!(status in (mine.responses as Schema))) missing.push(`${method.toUpperCase()} ${p} ${status}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('covers every request and response field with a compatible type', () => {
    const paths = ours.paths as Record<string, Record<string, Schema>>;
    const differences: string[] = [];
    for (const { path: p, method, op } of operations) {
      const mine = paths[p]?.[method];
      if (!mine) continue;
      const name = `${method.toUpperCase()} ${p}`;
      const body = op.requestBody as Schema | undefined;
      if (body) {
        const theirs = jsonSchema(body.content);
        const mineBody = jsonSchema((mine.requestBody as Schema | undefined)?.content);
        differences.push(...compare(doc, theirs, mineBody, `${name} request`));
      }
      for (const [status, response] of Object.entries(op.responses as Record<string, Schema>)) {
        if (status === '404' || status === '401') continue; // empty bodies here (vendor-apis.md §4.2)
        const theirs = jsonSchema(response.content);
        const mineResponse = (mine.responses as Record<string, Schema>)[status];
        differences.push(...compare(doc, theirs, jsonSchema(mineResponse?.content), `${name} ${status}`));
      }
    }
    expect(differences).toEqual([]);
  });

  it('routes every documented operation under /subscriptions (unauthenticated → empty 401, not a 404)', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const { path: p, method } of operations) {
      const url = `/subscriptions${p.replace(/\{\w+\}/g, id)}`;
      const res = await t.request(
        method.toUpperCase(),
        url,
        method === 'get' || method === 'delete' ? {} : { body: {} },
      );
      expect(`${method} ${p} ${res.status} ${res.text}`).toBe(`${method} ${p} 401 `);
    }
  });
});
