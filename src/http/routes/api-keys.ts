import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ForbiddenError, NotFoundError } from '../../errors.js';
import type { ApiKey } from '../../repositories/api-keys.js';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../../security/secrets.js';
import { requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { apiKey, createApiKey, createdApiKey, errorResponse, iso } from '../schemas.js';

export const apiKeyView = (k: ApiKey) => ({
  id: k.id,
  name: k.name,
  role: k.role,
  departmentId: k.departmentId,
  keyPrefix: k.keyPrefix,
  createdAt: iso(k.createdAt)!,
  lastUsedAt: iso(k.lastUsedAt),
  revokedAt: iso(k.revokedAt),
});

export function apiKeyRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api-keys',
      {
        preHandler: requireRole('admin'),
        schema: {
          tags: ['api-keys'],
          summary: 'Issue an API key; the key itself is answered once',
          body: createApiKey,
          response: { 201: createdApiKey, 400: errorResponse, 403: errorResponse, 404: errorResponse },
        },
      },
      async (request, reply) => {
        const departmentId = request.body.departmentId ?? null;
        // An admin limited to one department may issue keys for that department only.
        if (request.auth.departmentId && departmentId !== request.auth.departmentId) {
          throw new ForbiddenError('A key limited to one department can issue keys for that department only.');
        }
        if (departmentId && !(await deps.repos.departments.findById(departmentId))) throw new NotFoundError('Department');
        const key = generateApiKey();
        const created = await deps.repos.apiKeys.create({
          name: request.body.name,
          role: request.body.role,
          departmentId,
          keyHash: hashApiKey(key),
          keyPrefix: apiKeyPrefix(key),
        });
        return reply.code(201).send({ ...apiKeyView(created), key });
      },
    );
  };
}
