/**
 * What every route's OpenAPI entry gets without each route saying it: an operationId made
 * from its method and path, and the answers every API route can give (400 for bad input,
 * 401 without a valid key, 403 where a role is required, 429 over a rate limit, 503 while
 * the database cannot be reached), in the same error shape as the rest. A route's own
 * declarations win. Runs before the zod → JSON Schema step, for the document only.
 */
import type { FastifySchema, RouteOptions } from 'fastify';
import { rolesOf } from './auth.js';
import { errorResponse } from './schemas.js';

/** `GET /api/v1/vehicles/{id}/trips` → `getVehiclesIdTrips`: the same method and path always give the same id. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/api\/v1\//, '/')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

export function documentRoute<T extends { schema: FastifySchema; url: string; route: RouteOptions }>(input: T): T {
  const schema = input.schema as FastifySchema & { hide?: boolean; operationId?: string; response?: Record<string, unknown> };
  if (!schema || schema.hide) return input;
  const method = Array.isArray(input.route.method) ? input.route.method[0]! : input.route.method;
  const documented: typeof schema = { ...schema, operationId: schema.operationId ?? operationIdOf(method, input.url) };
  if (input.url.startsWith('/api/v1')) {
    const roles = rolesOf(input.route.preHandler);
    documented.response = {
      400: errorResponse.describe('The request is not valid: the message names what is wrong'),
      401: errorResponse.describe('No API key, or one that is not valid, revoked or expired'),
      429: errorResponse.describe('Rate limited (per key, or per address after failed authentications); see Retry-After'),
      503: errorResponse.describe('The database cannot be reached; see Retry-After'),
      ...(roles ? { 403: errorResponse.describe(`The key's role may not do this (it needs ${roles.join(' or ')})`) } : {}),
      ...schema.response,
    };
  }
  return { ...input, schema: documented };
}
