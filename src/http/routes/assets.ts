import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../core/errors/errors.js';
import type { App } from '../app.js';

/**
 * Static files for Payloom's own pages, under `/assets/`:
 * - `/assets/<path>.js`: browser scripts bundled by scripts/build-browser.mjs from
 *   `src/<path-with-browser-folder>.ts` (e.g. src/products/subscriptions/browser/sdk.ts →
 *   `/assets/products/subscriptions/sdk.js`);
 * - `/assets/<path>.css`: stylesheets copied from `src/**\/browser/*.css` the same way;
 * - `/assets/vendor/htmx.min.js`: htmx from node_modules.
 * Files are read once and kept in memory; names are checked so no path leaves the asset folders.
 */
const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('invariant violated: package.json not found above assets.ts');
    dir = parent;
  }
  return dir;
}

const vendor: Record<string, string> = {
  'htmx.min.js': 'node_modules/htmx.org/dist/htmx.min.js',
};

const cache = new Map<string, Buffer>();

export async function readAsset(name: string): Promise<Buffer | undefined> {
  const cached = cache.get(name);
  if (cached) return cached;
  if (!/^[a-z0-9][a-z0-9/_.-]*$/i.test(name) || name.includes('..')) return undefined;
  const root = packageRoot();
  const vendored = name.startsWith('vendor/') ? vendor[name.slice('vendor/'.length)] : undefined;
  const file = name.startsWith('vendor/')
    ? vendored && path.join(root, vendored)
    : name.endsWith('.css')
      ? path.join(root, 'src', cssSource(name))
      : path.join(root, 'dist', 'browser', name);
  if (!file || !existsSync(file)) return undefined;
  const body = await readFile(file);
  cache.set(name, body);
  return body;
}

/** `products/x/page.css` is src/products/x/browser/page.css. */
function cssSource(name: string): string {
  const dir = path.dirname(name);
  return path.join(dir, 'browser', path.basename(name));
}

export function assetRoutes(app: App): void {
  app.get<{ Params: { '*': string } }>('/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const name = request.params['*'];
    const body = await readAsset(name);
    const type = contentTypes[path.extname(name)];
    if (!body || !type) throw new AppError('not_found', `No asset ${name}.`);
    return reply
      .type(type)
      .header('cache-control', 'public, max-age=300')
      .header('x-content-type-options', 'nosniff')
      .send(body);
  });
}
