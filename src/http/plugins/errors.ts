/**
 * Every error leaves the API in one shape, `{error: {code, message, details?, requestId}}`,
 * mapped to its status here and nowhere else. 5xx bodies say nothing of the cause;
 * the cause is in the log under the same request id.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError } from '../../errors.js';
import {
  CHARACTER_NOT_IN_REPERTOIRE,
  FOREIGN_KEY_VIOLATION,
  isDatabaseUnavailable,
  pgErrorCode,
  UNIQUE_VIOLATION,
  UNTRANSLATABLE_CHARACTER,
} from '../../db/errors.js';

/** What a client is told to wait when the database cannot be reached (pg's pool tries a fresh connection on the next request). */
export const DATABASE_RETRY_AFTER_S = 5;

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const requestId = request.id;
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = error.validation.map((v) => ({
        field: `${error.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}`,
        message: v.message ?? 'is invalid',
      }));
      const summary = details.map((d) => `${d.field}: ${d.message}`).join('; ');
      return reply.code(400).send({ error: { code: 'validation_failed', message: `Invalid request: ${summary}`, details, requestId } });
    }
    if (error instanceof AppError) {
      return reply
        .code(error.statusCode)
        .send({ error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}), requestId } });
    }
    const sqlState = pgErrorCode(error);
    if (sqlState === UNIQUE_VIOLATION) {
      return reply
        .code(409)
        .send({ error: { code: 'conflict', message: 'An object with the same unique value already exists.', requestId } });
    }
    if (sqlState === CHARACTER_NOT_IN_REPERTOIRE || sqlState === UNTRANSLATABLE_CHARACTER) {
      // The input checks (plugins/input.ts) catch NUL first; this is the backstop for any other character PostgreSQL refuses.
      return reply
        .code(400)
        .send({ error: { code: 'invalid_character', message: 'A value holds a character that cannot be stored.', requestId } });
    }
    if (sqlState === FOREIGN_KEY_VIOLATION) {
      return reply.code(400).send({ error: { code: 'bad_reference', message: 'A referenced object does not exist.', requestId } });
    }
    // Fastify's own client errors (bad JSON, body too large, wrong content type) carry a 4xx status.
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: { code: error.code ?? 'bad_request', message: error.message, requestId } });
    }
    if (isDatabaseUnavailable(error)) {
      // The logger's error serializer leaves out the statement's parameters (src/logger.ts).
      request.log.error({ err: error }, 'database unavailable');
      return reply
        .code(503)
        .header('retry-after', String(DATABASE_RETRY_AFTER_S))
        .send({
          error: {
            code: 'database_unavailable',
            message: `The database cannot be reached; try again in ${DATABASE_RETRY_AFTER_S} s.`,
            requestId,
          },
        });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: { code: 'internal', message: 'Internal server error', requestId } });
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}`, requestId: request.id } }),
  );
}
