import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ForbiddenError } from '../../errors.js';
import { requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { createDepartment, department, errorResponse, iso } from '../schemas.js';
import type { Department } from '../../repositories/departments.js';

const view = (d: Department) => ({ id: d.id, code: d.code, name: d.name, createdAt: iso(d.createdAt)! });

export function departmentRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/departments',
      {
        preHandler: requireRole('admin'),
        schema: {
          tags: ['departments'],
          summary: 'Create a department',
          body: createDepartment,
          response: { 201: department, 400: errorResponse, 403: errorResponse, 409: errorResponse },
        },
      },
      async (request, reply) => {
        if (request.auth.departmentId) throw new ForbiddenError('A key limited to one department cannot create departments.');
        const created = await deps.repos.departments.create(request.body);
        return reply.code(201).send(view(created));
      },
    );

    app.get(
      '/departments',
      { schema: { tags: ['departments'], summary: 'List the departments this key may see', response: { 200: z.array(department) } } },
      async (request) => (await deps.repos.departments.list(request.auth)).map(view),
    );
  };
}
