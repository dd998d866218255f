/**
 * The web pages: the static files in `web/` at `/web/`, Leaflet's `dist/` from
 * node_modules at `/web/vendor/leaflet/`, and `/` redirecting to the live map.
 * No build step: what is in `web/` is what the browser gets.
 */
import { existsSync } from 'node:fs';
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

function leafletDist(): string {
  return join(dirname(createRequire(import.meta.url).resolve('leaflet/package.json')), 'dist');
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
  // A browser keeps the #fragment (the demo's #key=…) across the redirect.
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/web/', 302));
  app.get('/web', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/web/', 302));
};

export default webPlugin;
