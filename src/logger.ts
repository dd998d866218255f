/**
 * The one pino logger. Request URLs are logged without their query string's `token`
 * (browsers pass API keys that way to the live feed), and authorization headers never.
 * No API key, device secret or password is ever logged: request and response bodies
 * are not logged, and fields with those names are censored wherever they appear.
 * Errors are logged without the parameters of the SQL statement that failed (drizzle
 * puts them in the message: a lookup by key hash would log every caller's hash).
 * tests/integration/access-limits.test.ts captures the output of a running service and
 * checks it.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

/** Query parameters whose value is never logged, compared after percent-decoding (`%74oken` is `token`). */
const SECRET_QUERY_PARAMS = new Set(['token', 'key', 'apikey', 'api_key', 'access_token', 'secret', 'password']);

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const pairs = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name: string;
      try {
        name = decodeURIComponent(rawName.replaceAll('+', ' ')).trim().toLowerCase();
      } catch {
        return '[redacted]'; // a name that does not decode: nothing of it is logged
      }
      return SECRET_QUERY_PARAMS.has(name) ? `${rawName}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${pairs.join('&')}`;
}

/** The `\nparams: …` that drizzle appends to a failed query's message, for each error in the chain. */
function queryParamTexts(err: unknown): string[] {
  const texts: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const params = (e as { params?: unknown }).params;
    if (Array.isArray(params) && params.length > 0) texts.push(`\nparams: ${params.join(',')}`);
    e = (e as { cause?: unknown }).cause;
  }
  return texts;
}

/** pino's error serializer, less the values bound to a failed SQL statement (and PostgreSQL's `detail`, which quotes them). */
export function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown;
  if (!out || typeof out !== 'object') return out;
  const texts = queryParamTexts(err);
  const scrub = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return texts.reduce((s, t) => s.replaceAll(t, '\nparams: [redacted]'), value);
    if (value === null || typeof value !== 'object') return value;
    if (depth > 5) return '[too deep]';
    if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) copy[k] = k === 'params' || k === 'detail' ? '[redacted]' : scrub(v, depth + 1);
    return copy;
  };
  return scrub(out, 0);
}

const SECRET_FIELDS = ['authorization', 'password', 'secret', 'key', 'token', 'apiKey', 'adminApiKey', 'secretHash', 'keyHash'];

/** Writes to `destination` (default stdout); tests pass a stream to read what was logged. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', ...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`)],
      censor: '[redacted]',
    },
    serializers: {
      err: serializeError,
      req(req: { method: string; url: string; hostname?: string; ip?: string; id?: string }) {
        return { method: req.method, url: redactUrl(req.url), hostname: req.hostname, remoteAddress: req.ip, id: req.id };
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
