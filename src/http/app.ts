/**
 * Builds the HTTP API. Listening, signals and exit belong to the entry points
 * (src/cli.ts); tests build the app and call `app.inject`.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import type { LiveHub } from '../live/hub.js';
import type { Repositories } from '../repositories/index.js';
import type { DomainServices } from '../services.js';
import { LIVE_PROTOCOL, bearerToken, createAuthenticator, liveToken } from './auth.js';
import { registerErrorHandler } from './plugins/errors.js';
import { registerHttpMetrics } from './plugins/http-metrics.js';
import { registerSecurity, type RateLimitOptions } from './plugins/security.js';
import { apiRoutes } from './routes/index.js';

export interface AppDeps {
  database: Pick<Database, 'ping'>;
  repos: Repositories;
  services: DomainServices;
  logger: Logger;
  now: () => Date;
  /** The live feed's hub; without it /api/v1/live answers 503 (this process has no broker). */
  live?: LiveHub;
  /** Browser origins allowed to open the live feed; the API's own origin is always allowed. */
  allowedOrigins?: readonly string[];
  /** Served at GET /metrics in the Prometheus text format. */
  metrics?: Registry;
  /** Further readiness checks of this process (e.g. its broker session), by name. */
  readiness?: () => Record<string, boolean>;
  /**
   * Told when a device has been registered; resolves once this process's ingest worker
   * (if it subscribes device by device) listens to its topic, so the device may publish
   * as soon as the API has answered.
   */
  onDeviceRegistered?: () => Promise<void>;
  /** Told when a device's secret changes, so open broker connections made with the old one end. */
  onDeviceSecretChanged?: (deviceId: string) => void;
  /**
   * Told when a geofence is created, changed or removed, so this process's alert engine
   * judges the next readings with it (other processes reload within 30 s).
   */
  onGeofencesChanged?: () => void;
  /** Told when a department's working hours or exempt vehicles change (as onGeofencesChanged). */
  onAlertRulesChanged?: () => void;
  /** Requests a minute per API key, and failed authentications a minute per address (defaults: 600, 30). */
  rateLimit?: RateLimitOptions;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    requestIdHeader: 'x-request-id',
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  // Before any route: headers, x-request-id, rate limits (src/http/plugins/security.ts), HTTP metrics.
  await registerSecurity(app, deps.rateLimit ? { rateLimit: deps.rateLimit } : {});
  registerHttpMetrics(app, deps.metrics);

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Armada API', version: '1', description: 'Fleet fuel and vehicle tracking' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  // Before any route, so it can take the upgrade of /api/v1/live.
  // A browser's live feed may send its key as a WebSocket subprotocol (see liveToken): the
  // handshake must then name the protocol it speaks, or the browser drops the connection.
  await app.register(fastifyWebsocket, {
    options: { maxPayload: 64 * 1024, handleProtocols: (protocols) => (protocols.has(LIVE_PROTOCOL) ? LIVE_PROTOCOL : false) },
  });
  await app.register(import('./plugins/web.js')); // the web pages: / and /web/ (src/http/plugins/web.ts)

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get(
    '/readyz',
    { schema: { hide: true, response: { 200: z.object({ status: z.string(), checks: z.record(z.string(), z.boolean()) }), 503: z.object({ status: z.string(), checks: z.record(z.string(), z.boolean()) }) } } },
    async (_request, reply) => {
      const checks: Record<string, boolean> = { database: await deps.database.ping(), ...(deps.readiness?.() ?? {}) };
      const ok = Object.values(checks).every(Boolean);
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
    },
  );

  const registry = deps.metrics;
  if (registry) {
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
      reply.type(registry.contentType).send(await registry.metrics()),
    );
  }

  const authenticate = createAuthenticator(deps.repos.apiKeys, deps.now);
  await app.register(
    async (api) => {
      api.decorateRequest('auth', null as never);
      api.addHook('onRequest', async (request) => {
        // Browsers cannot put a header on a WebSocket, so the live feed also takes the key as a subprotocol or ?token=.
        const live = request.routeOptions.url === '/api/v1/live';
        const token =
          bearerToken(request.headers.authorization) ??
          (live ? (liveToken(request.headers['sec-websocket-protocol']) ?? (request.query as { token?: string }).token) : undefined);
        request.auth = await authenticate(token);
      });
      const typed = api.withTypeProvider<ZodTypeProvider>();
      for (const routes of apiRoutes) await typed.register(routes(deps));
    },
    { prefix: '/api/v1' },
  );
  return app;
}
