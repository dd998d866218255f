/** The API server: where it listens, its limits and timeouts, who may call it, and the metrics port. */
import { isIP } from 'node:net';
import { z } from 'zod';
import { port, emptyAsUndefined } from './fields.js';

/**
 * TRUST_PROXY: '' (none), a hop count, or addresses and CIDR ranges. `true` (trust
 * anybody) is refused: any client could then pick the address it is counted under.
 */
const trustProxy = z
  .string()
  .trim()
  .refine(
    (v) =>
      v === '' ||
      /^\d{1,2}$/.test(v) ||
      v.split(',').every((part) => {
        const [address, bits, extra] = part.trim().split('/');
        if (extra !== undefined || !address || isIP(address) === 0) return false;
        return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(address) === 4 ? 32 : 128));
      }),
    { message: 'must be empty, a number of proxy hops, or proxy addresses and CIDR ranges separated by commas' },
  )
  .transform((v): number | string | false => (v === '' ? false : /^\d+$/.test(v) ? Number(v) : v));

export const httpVariables = {
  HTTP_HOST: z.string().min(1).default('127.0.0.1').describe('The address the API listens on'),
  HTTP_PORT: port.default(3000).describe("The API's port"),
  METRICS_PORT: z
    .preprocess(emptyAsUndefined, port.optional())
    .describe(
      'A `worker` process (no API) serves `/metrics`, `/healthz` and `/readyz` on this port of `HTTP_HOST`; unset: it serves nothing',
    ),
  RATE_LIMIT_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(600)
    .describe('Requests a minute per API key (or per address without one), per API instance'),
  AUTH_FAILURES_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(30)
    .describe('Failed authentications a minute from one address before it gets 429'),
  TRUST_PROXY: z
    .preprocess((v) => v ?? '', trustProxy)
    .describe(
      "The reverse proxies in front of the API: a number of hops, or a comma-separated list of their addresses and CIDR ranges (e.g. 127.0.0.1,10.0.0.0/8). The client's address, for rate limits and the failed-authentication throttle, then comes from X-Forwarded-For. Empty: no proxy is trusted, the address is the socket's",
    ),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(3_600_000)
    .default(30_000)
    .describe("A request's headers and body must have arrived within this, or the connection is closed (408)"),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(500)
    .max(3_600_000)
    .default(10_000)
    .describe("A request's headers must have arrived within this (at most HTTP_REQUEST_TIMEOUT_MS)"),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(10_000)
    .describe('An idle keep-alive connection is closed after this (behind a load balancer: longer than its idle timeout)'),
  HTTP_MAX_CONNECTIONS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(5000)
    .describe('Open connections (HTTP and live-feed WebSockets) this API instance accepts; further ones are closed at once'),
  LIVE_MAX_CONNECTIONS_PER_KEY: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(20)
    .describe('Open live-feed connections one API key may have on this instance; one more is answered 429'),
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .describe("Browser origins, besides the API's own, that may open the live feed (comma-separated)"),
  ADMIN_API_KEY: z
    .preprocess(emptyAsUndefined, z.string().min(24, { message: 'must be at least 24 characters' }).optional())
    .describe('At start, if no admin key exists yet, an admin key with this value (≥ 24 characters) is created'),
};
