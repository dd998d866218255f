/**
 * What every response and every caller goes through before the routes: security
 * headers (helmet, with a Content-Security-Policy for a JSON API, the /docs page and
 * the live map's OpenStreetMap tiles), the request id echoed in `x-request-id`, and
 * rate limits.
 *
 * Rate limits count per API key (after authentication) and, for requests without a
 * key (/docs), per client address. The address is the socket's unless TRUST_PROXY names
 * the reverse proxies in front (then it is the client's, from X-Forwarded-For as those
 * proxies pass it on): without it, a forged `X-Forwarded-For` cannot move a caller to a
 * fresh counter. API requests that end in 401 are counted per address too: past the
 * limit, the address's API requests without a valid key get 429 (a wrong key is not
 * even told apart from a right one). A valid key always gets through, so one client
 * with a stale key behind an office NAT or a proxy does not lock out its neighbours, and
 * the web page and /docs are never blocked by it: they take no key.
 * /healthz, /readyz and /metrics are not limited.
 * Counters live in this process: behind a load balancer each API instance counts its own.
 *
 * Called before any route is added (it hooks routes as they are registered).
 */
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';

export interface RateLimitOptions {
  /** Requests a minute per API key (or per address without a key). Default 600. */
  perMinute?: number;
  /** Failed authentications (401) a minute per client address before it gets 429. Default 30. */
  failedAuthPerMinute?: number;
}

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;
export const DEFAULT_FAILED_AUTH_PER_MINUTE = 30;
const WINDOW_MS = 60_000;

/** Routes that monitoring and orchestrators poll: never rate limited. */
const UNLIMITED_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

export class RateLimitedError extends AppError {
  constructor(retryAfterS: number, what: string) {
    super(429, 'rate_limited', `Too many requests ${what}; try again in ${retryAfterS} s.`, { retryAfterS });
  }
}

/** The Content-Security-Policy: the API's own origin, and the map tiles of OpenStreetMap. */
export const contentSecurityPolicy = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:', 'https://tile.openstreetmap.org', 'https://*.tile.openstreetmap.org'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
  // Armada is often reached over plain HTTP on a LAN; upgrading would break /docs there.
  upgradeInsecureRequests: null,
};

/** A fixed-window counter per key, dropped when its window is over. */
function windowCounter(limit: number, windowMs: number, now: () => number) {
  const counts = new Map<string, { n: number; resetAtMs: number }>();
  let sweepAtMs = now() + windowMs;
  const current = (key: string) => {
    const t = now();
    if (t >= sweepAtMs) {
      for (const [k, v] of counts) if (v.resetAtMs <= t) counts.delete(k);
      sweepAtMs = t + windowMs;
    }
    const entry = counts.get(key);
    return entry && entry.resetAtMs > t ? entry : undefined;
  };
  return {
    /** Seconds until the key may try again, when it is over the limit. */
    blockedForS(key: string): number | undefined {
      const entry = current(key);
      return entry && entry.n >= limit ? Math.max(1, Math.ceil((entry.resetAtMs - now()) / 1000)) : undefined;
    },
    add(key: string): void {
      const entry = current(key);
      if (entry) entry.n += 1;
      else counts.set(key, { n: 1, resetAtMs: now() + windowMs });
    },
  };
}

/** The caller's key, on routes that authenticate (`request.auth` exists only under /api/v1). */
function authOf(request: FastifyRequest): { keyId: string } | undefined {
  return (request as { auth?: { keyId: string } | null }).auth ?? undefined;
}

/** The failed-authentication throttle, asked by the API's authentication hook (src/http/app.ts). */
export interface FailedAuthThrottle {
  /** Seconds until the request's address may try a missing or wrong key again, when it is blocked now. */
  blockedForS(request: FastifyRequest): number | undefined;
  /** The 429 for a blocked address, with its Retry-After. */
  reject(reply: FastifyReply, retryAfterS: number): RateLimitedError;
}

export async function registerSecurity(app: FastifyInstance, options: { rateLimit?: RateLimitOptions } = {}): Promise<FailedAuthThrottle> {
  const perMinute = options.rateLimit?.perMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE;
  const failedAuthPerMinute = options.rateLimit?.failedAuthPerMinute ?? DEFAULT_FAILED_AUTH_PER_MINUTE;

  await app.register(fastifyHelmet, { contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy } });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const unlimited = (request: FastifyRequest) => UNLIMITED_ROUTES.has(request.routeOptions.url ?? '');

  // Failed authentications per address (request.ip: the client's behind trusted proxies),
  // counted when a request ends in 401; the API's authentication hook asks before it answers.
  const failedAuth = windowCounter(failedAuthPerMinute, WINDOW_MS, Date.now);
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 401) failedAuth.add(request.ip);
  });

  // Per key: after authentication (the /api/v1 onRequest hook), so the key is known.
  await app.register(fastifyRateLimit, {
    max: perMinute,
    timeWindow: WINDOW_MS,
    hook: 'preHandler',
    keyGenerator: (request) => {
      const keyId = authOf(request)?.keyId;
      return keyId ? `key:${keyId}` : `ip:${request.ip}`;
    },
    allowList: (request) => unlimited(request),
    errorResponseBuilder: (request, context) =>
      new RateLimitedError(Math.max(1, Math.ceil(context.ttl / 1000)), authOf(request) ? 'with this API key' : 'from this address'),
  });

  return {
    blockedForS: (request) => failedAuth.blockedForS(request.ip),
    reject(reply, retryAfterS) {
      reply.header('retry-after', String(retryAfterS));
      return new RateLimitedError(retryAfterS, 'with a missing or wrong API key from this address');
    },
  };
}
