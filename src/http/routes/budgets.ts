/** Departments' yearly fuel budgets (rupiah): finance and admin set them, the department and finance read. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError } from '../../errors.js';
import { rupiahNumber } from '../../domain/finance/money.js';
import { actorOf } from '../../finance/audit.js';
import type { Budget } from '../../repositories/finance/budgets.js';
import { assertDepartmentVisible, requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { errorResponse } from '../schemas.js';
import { FINANCE_WRITERS } from './fuel-purchases.js';

const budget = z.object({
  departmentId: z.uuid(),
  year: z.number().int(),
  amountIdr: z.number().int().describe('The fuel budget for the calendar year, whole rupiah'),
  updatedAt: z.string(),
});
const view = (b: Budget) => ({
  departmentId: b.departmentId,
  year: b.year,
  amountIdr: rupiahNumber(b.amountIdr),
  updatedAt: b.updatedAt.toISOString(),
});
const params = z.object({ id: z.uuid(), year: z.coerce.number().int().min(2000).max(2100) });

export function budgetRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/departments/:id/budgets',
      {
        schema: {
          tags: ['finance'],
          summary: "A department's yearly fuel budgets",
          params: z.object({ id: z.uuid() }),
          response: { 200: z.array(budget), 404: errorResponse },
        },
      },
      async (request) => {
        assertDepartmentVisible(request.auth, request.params.id);
        if (!(await deps.repos.departments.findById(request.params.id))) throw new NotFoundError('Department');
        return (await deps.repos.budgets.list({ departmentId: request.params.id })).map(view);
      },
    );

    app.get(
      '/departments/:id/budgets/:year',
      {
        schema: {
          tags: ['finance'],
          summary: "A department's fuel budget for a year",
          params,
          response: { 200: budget, 404: errorResponse },
        },
      },
      async (request) => {
        assertDepartmentVisible(request.auth, request.params.id);
        const found = await deps.repos.budgets.find(request.params.id, request.params.year);
        if (!found) throw new NotFoundError('Budget');
        return view(found);
      },
    );

    app.put(
      '/departments/:id/budgets/:year',
      {
        preHandler: requireRole(...FINANCE_WRITERS),
        schema: {
          tags: ['finance'],
          summary: "Set a department's fuel budget for a year (201 when new, 200 when changed or unchanged)",
          params,
          body: z.object({ amountIdr: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('Whole rupiah') }),
          response: { 200: budget, 201: budget, 400: errorResponse, 403: errorResponse, 404: errorResponse },
        },
      },
      async (request, reply) => {
        const { budget: b, created } = await deps.services.catalog.setBudget(
          request.params.id,
          request.params.year,
          BigInt(request.body.amountIdr),
          {
            actor: actorOf(request.auth),
            scope: request.auth,
            now: deps.now(),
          },
        );
        return reply.code(created ? 201 : 200).send(view(b));
      },
    );
  };
}
