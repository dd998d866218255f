/**
 * Vehicles' monthly fuel allocations with history. Finance and admin set them (a manager
 * no longer may: the audited must not set their own baseline); everyone reads in scope.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BadRequestError } from '../../errors.js';
import { litresNumber, parseLitres } from '../../domain/finance/money.js';
import { actorOf } from '../../finance/audit.js';
import type { Allocation } from '../../repositories/finance/allocations.js';
import { requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { errorResponse, idParams } from '../schemas.js';
import { FINANCE_WRITERS } from './fuel-purchases.js';

export const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, { message: 'a month YYYY-MM' });

const allocation = z.object({
  id: z.uuid(),
  vehicleId: z.uuid(),
  litres: z.number().describe('Litres a month'),
  fromMonth: z.string().describe('The local month (YYYY-MM) from which it applies; the first applies from the beginning'),
  createdAt: z.string(),
  createdByKeyId: z.string().nullable(),
});
const view = (a: Allocation) => ({ ...a, litresMl: undefined, litres: litresNumber(a.litresMl), createdAt: a.createdAt.toISOString() });

export function allocationRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const catalog = deps.services.catalog;
  return async (app) => {
    app.get(
      '/vehicles/:id/allocations',
      {
        schema: {
          tags: ['finance'],
          summary: "A vehicle's allocation history, and the one in force this month",
          params: idParams,
          response: {
            200: z.object({
              allocations: z.array(allocation),
              current: z.object({ month: z.string(), litres: z.number() }).describe('The allocation in force for the current local month'),
            }),
            404: errorResponse,
          },
        },
      },
      async (request) => {
        const { vehicle, allocations } = await catalog.listAllocations(request.params.id, request.auth);
        const current = catalog.currentMonth(deps.now());
        const inForce = (await deps.repos.allocations.inForceForMonth([vehicle.id], current)).get(vehicle.id)!;
        return { allocations: allocations.map(view), current: { month: current, litres: litresNumber(inForce.litresMl) } };
      },
    );

    app.post(
      '/vehicles/:id/allocations',
      {
        preHandler: requireRole(...FINANCE_WRITERS),
        schema: {
          tags: ['finance'],
          summary: "Set a vehicle's monthly allocation from a month on",
          description:
            'The allocation in force for a month is the one with the latest fromMonth not after it; ' +
            'the first applies from the beginning. Setting a month that already has one replaces it (both are in the audit log). ' +
            "The vehicle's monthlyAllocationLitres follows the current month's.",
          params: idParams,
          body: z.object({
            litres: z.union([z.number(), z.string()]).describe('Litres a month (0 or more, at most three decimals)'),
            fromMonth: month.describe('The local month (YYYY-MM) from which it applies'),
          }),
          response: { 200: allocation, 201: allocation, 400: errorResponse, 403: errorResponse, 404: errorResponse },
        },
      },
      async (request, reply) => {
        let litresMl: bigint;
        try {
          litresMl = parseLitres(request.body.litres);
        } catch (err) {
          throw new BadRequestError(`body.litres: ${(err as Error).message}`);
        }
        if (litresMl > 100_000_000n) throw new BadRequestError('body.litres: at most 100000 litres a month');
        const result = await catalog.setAllocation(
          request.params.id,
          { litresMl, fromMonth: request.body.fromMonth },
          { actor: actorOf(request.auth), scope: request.auth, now: deps.now() },
        );
        return reply.code(result.created ? 201 : 200).send(view(result.allocation));
      },
    );
  };
}
