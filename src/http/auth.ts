/**
 * Who is calling: resolved from `Authorization: Bearer <key>` (or `?token=` on the
 * live feed, for browsers) before any route runs, and checked by role and department.
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

export function createAuthenticator(apiKeys: Pick<ApiKeyRepository, 'findActiveByHash' | 'touch'>, now: () => Date) {
  const lastTouched = new Map<string, number>();
  return async function authenticate(token: string | undefined): Promise<AuthContext> {
    if (!token) throw new UnauthorizedError();
    const key = await apiKeys.findActiveByHash(hashApiKey(token));
    if (!key) throw new UnauthorizedError('The API key is not valid or has been revoked.');
    const at = now();
    if (at.getTime() - (lastTouched.get(key.id) ?? 0) > TOUCH_EVERY_MS) {
      lastTouched.set(key.id, at.getTime());
      await apiKeys.touch(key.id, at);
    }
    return { keyId: key.id, keyName: key.name, role: key.role, departmentId: key.departmentId };
  };
}

/** A preHandler that lets only the given roles through. */
export function requireRole(...roles: ApiKeyRole[]) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    if (!roles.includes(request.auth.role)) {
      throw new ForbiddenError(`This needs the role ${roles.join(' or ')}; the key has the role ${request.auth.role}.`);
    }
  };
}

/**
 * Fails unless the caller may see the department. A department outside the caller's
 * scope answers 404, as if it did not exist, so ids of other departments leak nothing.
 */
export function assertDepartmentVisible(auth: AuthContext, departmentId: string, what = 'Department'): void {
  if (auth.departmentId && auth.departmentId !== departmentId) throw new NotFoundError(what);
}
