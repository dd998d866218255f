/**
 * The web pages: the static files in `web/` at `/web/`, Leaflet's `dist/` from
 * node_modules at `/web/vendor/leaflet/`, the page's other libraries as ES modules at
 * `/web/vendor/<name>.js`, and `/` redirecting to the app.
 * No build step: what is in `web/` is what the browser gets. The libraries' bare imports
 * (`from "preact"`) are rewritten to the sibling vendor URL when they are first served,
 * because an inline import map would need the Content-Security-Policy to allow inline
 * scripts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** `web/` at the package root: the nearest folder above this file that has one (src/ or a compiled dist/). */
function webRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'web', 'index.html'))) return join(dir, 'web');
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`web/index.html not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

const require = createRequire(import.meta.url);
/** A package's folder in node_modules (some packages' `exports` hide their package.json from require.resolve). */
function packageDir(name: string): string {
  for (const dir of require.resolve.paths(name) ?? []) if (existsSync(join(dir, name, 'package.json'))) return join(dir, name);
  throw new Error(`the package ${name} is not installed (npm ci)`);
}

function leafletDist(): string {
  return join(packageDir('leaflet'), 'dist');
}

/** URL under /web/vendor/ → the package file, and the bare imports in it → sibling vendor URLs. */
export const vendorModules: Record<string, { pkg: string; file: string; imports?: Record<string, string> }> = {
  'preact.js': { pkg: 'preact', file: 'dist/preact.mjs' },
  'preact-hooks.js': { pkg: 'preact', file: 'hooks/dist/hooks.mjs', imports: { preact: './preact.js' } },
  'htm.js': { pkg: 'htm', file: 'dist/htm.module.js' },
  'kdbush.js': { pkg: 'kdbush', file: 'index.js' },
  'supercluster.js': { pkg: 'supercluster', file: 'index.js', imports: { kdbush: './kdbush.js' } },
  'uplot.js': { pkg: 'uplot', file: 'dist/uPlot.esm.js' },
  'uplot.css': { pkg: 'uplot', file: 'dist/uPlot.min.css' },
};

function loadVendor(name: string): string {
  const spec = vendorModules[name]!;
  let text = readFileSync(join(packageDir(spec.pkg), spec.file), 'utf8');
  for (const [bare, url] of Object.entries(spec.imports ?? {})) {
    text = text.replace(new RegExp(`(\\bfrom\\s*)(["'])${bare}\\2`, 'g'), `$1$2${url}$2`);
  }
  return text;
}

const webPlugin: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, {
    root: webRoot(),
    prefix: '/web/',
    index: ['index.html'],
    cacheControl: true,
    maxAge: 0,
  });
  await app.register(fastifyStatic, {
    root: leafletDist(),
    prefix: '/web/vendor/leaflet/',
    decorateReply: false,
    maxAge: '1d',
  });
  // Read at start: a missing package stops the API with a clear error instead of a page with 500s.
  const texts = new Map(Object.keys(vendorModules).map((name) => [name, loadVendor(name)]));
  app.get('/web/vendor/:name', { schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { name: string }).name;
    const text = texts.get(name);
    if (text === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    return reply
      .type(name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=86400')
      .send(text);
  });
  // A browser keeps the #fragment (the demo's #key=…) across the redirect.
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/web/', 302));
  app.get('/web', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/web/', 302));
};

export default webPlugin;
