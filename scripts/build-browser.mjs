// Bundles the browser scripts: every src/**/browser/<name>.ts (not *.test.ts) becomes one small IIFE,
// dist/browser/<path under src without the browser folder>/<name>.js, served under /assets/ (see
// src/http/routes/assets.ts). Runs in `npm run build`, so `npm ci` builds it; nothing is committed.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');

async function entries(dir) {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await entries(full)));
    else if (
      path.basename(dir) === 'browser' &&
      entry.name.endsWith('.ts') &&
      !entry.name.endsWith('.test.ts') &&
      !entry.name.endsWith('.d.ts')
    ) {
      found.push(full);
    }
  }
  return found;
}

const files = await entries(path.join(root, 'src'));
for (const file of files) {
  const relative = path
    .relative(path.join(root, 'src'), file)
    .replace(`${path.sep}browser${path.sep}`, path.sep);
  await build({
    entryPoints: [file],
    outfile: path.join(root, 'dist', 'browser', relative.replace(/\.ts$/, '.js')),
    bundle: true,
    format: 'iife',
    target: ['es2020', 'safari14'],
    minify: true,
    sourcemap: false,
    logLevel: 'warning',
  });
}
console.log(`browser scripts: ${files.length} bundled into dist/browser`);
