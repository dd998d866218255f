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
import { BadRequestError, UnauthorizedError } from '../errors.js';
import type { Repositories } from '../repositories/index.js';
import type { DomainServices } from '../services.js';
import { LIVE_PROTOCOL, bearerToken, createAuthenticator, liveToken } from './auth.js';
import { documentRoute } from './openapi.js';
import { registerErrorHandler } from './plugins/errors.js';
import { registerHttpMetrics } from './plugins/http-metrics.js';
import { registerInputChecks, requestIdOf } from './plugins/input.js';
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
  /** Timeouts and connection caps of the HTTP server (defaults: DEFAULT_HTTP_LIMITS). */
  http?: Partial<HttpLimits>;
  /**
   * The reverse proxies in front (TRUST_PROXY): how many hops, or their addresses and
   * CIDR ranges. The client's address then comes from X-Forwarded-For as they pass it on;
   * without it (false), from the socket.
   */
  trustProxy?: number | string | false;
}

export interface HttpLimits {
  /** Headers and body must have arrived within this, or the connection is closed. */
  requestTimeoutMs: number;
  /** Headers must have arrived within this (at most requestTimeoutMs). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections (HTTP and WebSocket) the server accepts; one more is closed at once. */
  maxConnections: number;
  /** Open live-feed connections per API key. */
  liveConnectionsPerKey: number;
}

/** The defaults of HTTP_REQUEST_TIMEOUT_MS and the other settings in src/config.ts. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 10_000,
  maxConnections: 5000,
  liveConnectionsPerKey: 20,
};

/** A hop count as proxy-addr takes it (the nth hop from the socket and nearer are proxies), else as given. */
function trustProxyOption(trust: AppDeps['trustProxy']): string | boolean | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return trust ?? false;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...deps.http };
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    trustProxy: trustProxyOption(deps.trustProxy),
    // Without these a client sending a body (or its headers) a byte at a time holds a
    // socket for ever. Node checks the timeouts every connectionsCheckingInterval, so it
    // is kept well under the shortest of them.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    // x-request-id is read by requestIdOf, which takes a client's id only when it is plain.
    requestIdHeader: false,
    genReqId: requestIdOf,
  }).withTypeProvider<ZodTypeProvider>();
  // Beyond this, Node closes a new connection at once (the live feed's WebSockets count too).
  app.server.maxConnections = limits.maxConnections;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  registerInputChecks(app);
  // An empty body sent as JSON is no body (a POST whose body is optional, such as an
  // acknowledgement without a note); Fastify's own parser refuses it. Otherwise its parser, as is.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined);
    parseJson(request, body as string, done);
  });
  // Before any route: headers, x-request-id, rate limits (src/http/plugins/security.ts), HTTP metrics.
  const failedAuth = await registerSecurity(app, deps.rateLimit ? { rateLimit: deps.rateLimit } : {});
  registerHttpMetrics(app, deps.metrics);

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Armada API',
        version: '1',
        description: 'Fleet fuel and vehicle tracking',
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      servers: [{ url: '/', description: 'The Armada instance that serves this document' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: (input) => jsonSchemaTransform(documentRoute(input)),
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
    {
      schema: {
        hide: true,
        response: {
          200: z.object({ status: z.string(), checks: z.record(z.string(), z.boolean()) }),
          503: z.object({ status: z.string(), checks: z.record(z.string(), z.boolean()) }),
        },
      },
    },
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
      api.addHook('onRequest', async (request, reply) => {
        // Browsers cannot put a header on a WebSocket, so the live feed also takes the key as a subprotocol or ?token=.
        const live = request.routeOptions.url === '/api/v1/live';
        const queryToken = live ? (request.query as { token?: unknown }).token : undefined;
        if (queryToken !== undefined && typeof queryToken !== 'string') throw new BadRequestError('Give `token` once.');
        const token =
          bearerToken(request.headers.authorization) ??
          (live ? (liveToken(request.headers['sec-websocket-protocol']) ?? queryToken) : undefined);
        // An address over its failed-authentication limit gets 429 unless the key is valid.
        const blockedForS = failedAuth.blockedForS(request);
        if (blockedForS !== undefined && !token) throw failedAuth.reject(reply, blockedForS);
        try {
          request.auth = await authenticate(token);
        } catch (err) {
          if (blockedForS !== undefined && err instanceof UnauthorizedError) throw failedAuth.reject(reply, blockedForS);
          throw err;
        }
      });
      const typed = api.withTypeProvider<ZodTypeProvider>();
      for (const routes of apiRoutes) await typed.register(routes(deps));
    },
    { prefix: '/api/v1' },
  );
  return app;
}
