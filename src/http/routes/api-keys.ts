import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../../errors.js';
import type { ApiKey } from '../../repositories/api-keys.js';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../../security/secrets.js';
import { actorOf } from '../../finance/audit.js';
import { requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { apiKey, createApiKey, createdApiKey, errorResponse, idParams, iso } from '../schemas.js';

export const apiKeyView = (k: ApiKey) => ({
  id: k.id,
  name: k.name,
  role: k.role,
  departmentId: k.departmentId,
  keyPrefix: k.keyPrefix,
  createdAt: iso(k.createdAt)!,
  lastUsedAt: iso(k.lastUsedAt),
  revokedAt: iso(k.revokedAt),
  expiresAt: iso(k.expiresAt),
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
          description:
            'With `expiresAt`, the key is refused from that time on, like a revoked one ' +
            '(a live-feed connection opened with it ends within a minute).',
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
        const expiresAt = request.body.expiresAt ? new Date(request.body.expiresAt) : null;
        if (expiresAt && expiresAt.getTime() <= deps.now().getTime()) throw new BadRequestError('`expiresAt` must be in the future.');
        if (departmentId && !(await deps.repos.departments.findById(departmentId))) throw new NotFoundError('Department');
        const key = generateApiKey();
        const created = await deps.repos.apiKeys.create(
          {
            name: request.body.name,
            role: request.body.role,
            departmentId,
            keyHash: hashApiKey(key),
            keyPrefix: apiKeyPrefix(key),
            expiresAt,
          },
          { actor: actorOf(request.auth), at: deps.now() },
        );
        return reply.code(201).send({ ...apiKeyView(created), key });
      },
    );

    app.get(
      '/api-keys/current',
      {
        schema: {
          tags: ['api-keys'],
          summary: "The calling key's name, role and department (every role; the web app shows the screens the role may use)",
          response: {
            200: z.object({ name: z.string(), role: z.string(), departmentId: z.uuid().nullable() }),
          },
        },
      },
      async (request) => ({ name: request.auth.keyName, role: request.auth.role, departmentId: request.auth.departmentId ?? null }),
    );

    app.get(
      '/api-keys',
      {
        preHandler: requireRole('admin'),
        schema: {
          tags: ['api-keys'],
          summary: "List API keys (never the key or its hash); a department-limited admin sees its department's keys",
          response: { 200: z.array(apiKey), 403: errorResponse },
        },
      },
      async (request) => (await deps.repos.apiKeys.list(request.auth)).map(apiKeyView),
    );

    app.post(
      '/api-keys/:id/revoke',
      {
        preHandler: requireRole('admin'),
        schema: {
          tags: ['api-keys'],
          summary: 'Revoke an API key: it stops working at once',
          description:
            'Revoking a revoked key answers it unchanged. ' +
            'The last active admin key without a department and without an expiry cannot be revoked (409): create another first.',
          params: idParams,
          response: { 200: apiKey, 403: errorResponse, 404: errorResponse, 409: errorResponse },
        },
      },
      async (request) => {
        const target = await deps.repos.apiKeys.findById(request.auth, request.params.id);
        if (!target) throw new NotFoundError('API key');
        const { key, outcome } = await deps.repos.apiKeys.revoke(target.id, deps.now(), { actor: actorOf(request.auth), at: deps.now() });
        if (outcome === 'not_found' || !key) throw new NotFoundError('API key');
        if (outcome === 'last_admin') {
          throw new ConflictError(
            'This is the last active admin key without a department and without an expiry; ' +
              'revoking it would leave nobody able to manage keys. Issue another admin key first.',
          );
        }
        if (outcome === 'revoked') request.log.info({ apiKeyId: key.id, by: request.auth.keyId }, 'api key revoked');
        // Its open live-feed connections end now (other API instances notice within a minute).
        deps.live?.closeKey(key.id);
        return apiKeyView(key);
      },
    );
  };
}
