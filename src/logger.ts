/**
 * The one pino logger. Request URLs are logged without their query string's `token`
 * (browsers pass API keys that way to the live feed), and authorization headers never.
 */
import { pino, type Logger } from 'pino';

export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&]*/gi, '$1[redacted]');
}

export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: { paths: ['req.headers.authorization', 'password', 'secret', 'key'], censor: '[redacted]' },
    serializers: {
      req(req: { method: string; url: string; hostname?: string; ip?: string; id?: string }) {
        return { method: req.method, url: redactUrl(req.url), hostname: req.hostname, remoteAddress: req.ip, id: req.id };
      },
    },
  });
}
