/**
 * Who is calling: resolved from `Authorization: Bearer <key>` (on the live feed also the
 * subprotocol `bearer.<key>` or `?token=`, for browsers) before any route runs, and
 * checked by role and department.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.js';
import type { ApiKeyRepository, ApiKeyRole } from '../repositories/api-keys.js';
import type { DepartmentScope } from '../repositories/scope.js';
import { hashApiKey } from '../security/secrets.js';

export interface AuthContext extends DepartmentScope {
  keyId: string;
  /** The key's name, for the audit log's "who". */
  keyName: string;
  role: ApiKeyRole;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext;
  }
}

/** Recording last use on every request would turn each read into a write. */
const TOUCH_EVERY_MS = 60_000;

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The live feed's WebSocket subprotocol; a browser offers it with `bearer.<key>` beside it. */
export const LIVE_PROTOCOL = 'armada.v1';

/**
 * The key a browser's WebSocket offers as the subprotocol `bearer.<key>` (next to
 * LIVE_PROTOCOL): unlike `?token=`, it never appears in a URL. A key with characters a
 * subprotocol cannot carry goes in `?token=` instead.
 */
export function liveToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return undefined;
  for (const p of value.split(',')) {
    const m = /^\s*bearer\.(\S+?)\s*$/.exec(p);
    if (m) return m[1];
  }
  return undefined;
}

export function createAuthenticator(apiKeys: Pick<ApiKeyRepository, 'findActiveByHash' | 'touch'>, now: () => Date) {
  const lastTouched = new Map<string, number>();
  return async function authenticate(token: string | undefined): Promise<AuthContext> {
    if (!token) throw new UnauthorizedError();
    const at = now();
    const key = await apiKeys.findActiveByHash(hashApiKey(token), at);
    if (!key) throw new UnauthorizedError('The API key is not valid, has been revoked or has expired.');
    if (at.getTime() - (lastTouched.get(key.id) ?? 0) > TOUCH_EVERY_MS) {
      lastTouched.set(key.id, at.getTime());
      await apiKeys.touch(key.id, at);
    }
    return { keyId: key.id, keyName: key.name, role: key.role, departmentId: key.departmentId };
  };
}

/** A preHandler that lets only the given roles through; it carries them, for the OpenAPI document. */
export function requireRole(...roles: ApiKeyRole[]) {
  const check = async (request: FastifyRequest, _reply: FastifyReply) => {
    if (!roles.includes(request.auth.role)) {
      throw new ForbiddenError(`This needs the role ${roles.join(' or ')}; the key has the role ${request.auth.role}.`);
    }
  };
  return Object.assign(check, { roles });
}

/** The roles a route's preHandlers admit, if one of them is a requireRole. */
export function rolesOf(preHandler: unknown): readonly ApiKeyRole[] | undefined {
  const handlers = Array.isArray(preHandler) ? preHandler : [preHandler];
  for (const h of handlers) if (typeof h === 'function' && 'roles' in h) return (h as { roles: ApiKeyRole[] }).roles;
  return undefined;
}

/**
 * Fails unless the caller may see the department. A department outside the caller's
 * scope answers 404, as if it did not exist, so ids of other departments leak nothing.
 */
export function assertDepartmentVisible(auth: AuthContext, departmentId: string, what = 'Department'): void {
  if (auth.departmentId && auth.departmentId !== departmentId) throw new NotFoundError(what);
}
