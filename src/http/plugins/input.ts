/**
 * Checks on every request's input that no route schema makes: no NUL character in a
 * path parameter, a query value or any string (or key) of a JSON body. PostgreSQL
 * cannot store NUL in text or jsonb, so without this such input would fail deep in a
 * query as a 500; it is the client's mistake, answered 400 before any route runs.
 *
 * And the request id: a client's `x-request-id` is taken only when it is short and
 * plain, since it is echoed in a header and written to every log line of the request.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { BadRequestError } from '../../errors.js';

/** The request ids taken from a client: 1 to 128 of letters, digits and `- _ . : / + = @`. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9\-_.:/+=@]{1,128}$/;

/** The client's `x-request-id` when it is acceptable, otherwise a fresh one. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}

/** The path (`body.name`, `querystring.q`) of the first string holding a NUL, if any. */
export function findNul(value: unknown, root: string): string | undefined {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: root }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\0')) return path;
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ value: item, path: `${path}.${i}` }));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (k.includes('\0')) return `${path} (a key)`;
        stack.push({ value: item, path: `${path}.${k}` });
      }
    }
  }
  return undefined;
}

export function registerInputChecks(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const where = findNul(request.params, 'params') ?? findNul(request.query, 'querystring') ?? findNul(request.body, 'body');
    if (where) {
      const message = `${where} holds a NUL character (\\u0000), which is not accepted.`;
      throw new BadRequestError(message, [{ field: where, message: 'holds a NUL character' }]);
    }
  });
}
