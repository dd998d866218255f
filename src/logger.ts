/**
 * The one pino logger. Request URLs are logged without their query string's `token`
 * (browsers pass API keys that way to the live feed), and authorization headers never.
 * No API key, device secret or password is ever logged: request and response bodies
 * are not logged, and fields with those names are censored wherever they appear.
 * tests/integration/access-limits.test.ts captures the output of a running service and
 * checks it.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&]*/gi, '$1[redacted]');
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
      req(req: { method: string; url: string; hostname?: string; ip?: string; id?: string }) {
        return { method: req.method, url: redactUrl(req.url), hostname: req.hostname, remoteAddress: req.ip, id: req.id };
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
