import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ForbiddenError, NotFoundError } from '../../errors.js';
import { litresNumber, parseLitres } from '../../domain/finance/money.js';
import { actorOf } from '../../finance/audit.js';
import type { Vehicle } from '../../repositories/vehicles.js';
import { assertDepartmentVisible, requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { createVehicle, errorResponse, idParams, iso, patchVehicle, vehicle } from '../schemas.js';

export const vehicleView = (v: Vehicle) => ({
  id: v.id,
  plateNumber: v.plateNumber,
  departmentId: v.departmentId,
  kind: v.kind,
  fuelType: v.fuelType,
  tankCapacityLitres: v.tankCapacityLitres,
  ratedLitresPer100Km: v.ratedLitresPer100Km,
  idleLitresPerHour: v.idleLitresPerHour,
  monthlyAllocationLitres: v.monthlyAllocationLitres,
  speedLimitKmh: v.speedLimitKmh,
  createdAt: iso(v.createdAt)!,
});

export function vehicleRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { vehicles, departments } = deps.repos;
  /**
   * monthlyAllocationLitres as the allocation in force this month: an allocation set ahead
   * (from next month) takes over when its month comes, without anything being written then.
   */
  const withCurrentAllocation = async (list: Vehicle[]) => {
    const month = deps.services.catalog.currentMonth(deps.now());
    const inForce = await deps.repos.allocations.inForceForMonth(
      list.map((v) => v.id),
      month,
    );
    return list.map((v) => {
      const a = inForce.get(v.id);
      return vehicleView(a ? { ...v, monthlyAllocationLitres: litresNumber(a.litresMl) } : v);
    });
  };
  return async (app) => {
    app.get(
      '/vehicles',
      {
        schema: {
          tags: ['vehicles'],
          summary: 'List vehicles',
          querystring: z.object({ departmentId: z.uuid().optional() }),
          response: { 200: z.array(vehicle) },
        },
      },
      async (request) => withCurrentAllocation(await vehicles.list(request.auth, request.query)),
    );

    app.post(
      '/vehicles',
      {
        preHandler: requireRole('admin', 'manager'),
        schema: {
          tags: ['vehicles'],
          summary: 'Register a vehicle',
          body: createVehicle,
          response: { 201: vehicle, 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse },
        },
      },
      async (request, reply) => {
        assertDepartmentVisible(request.auth, request.body.departmentId);
        if (!(await departments.findById(request.body.departmentId))) throw new NotFoundError('Department');
        // The audited do not set their own baseline, not even for a vehicle they register.
        if (request.auth.role === 'manager' && request.body.monthlyAllocationLitres !== 0) {
          throw new ForbiddenError(
            'A manager registers a vehicle with monthlyAllocationLitres 0: its allocation is set by finance or an admin ' +
              '(POST /api/v1/vehicles/{id}/allocations).',
          );
        }
        const ctx = { actor: actorOf(request.auth), scope: request.auth, now: deps.now() };
        const created = await deps.services.catalog.createVehicle(request.body, ctx);
        return reply.code(201).send(vehicleView(created));
      },
    );

    app.get(
      '/vehicles/:id',
      { schema: { tags: ['vehicles'], summary: 'One vehicle', params: idParams, response: { 200: vehicle, 404: errorResponse } } },
      async (request) => {
        const found = await vehicles.findById(request.auth, request.params.id);
        if (!found) throw new NotFoundError('Vehicle');
        return (await withCurrentAllocation([found]))[0]!;
      },
    );

    app.patch(
      '/vehicles/:id',
      {
        preHandler: requireRole('admin', 'manager'),
        schema: {
          tags: ['vehicles'],
          summary: 'Change a vehicle',
          description:
            'A manager may not change monthlyAllocationLitres or tankCapacityLitres (the audited must not set their own baseline); ' +
            'finance sets allocations with POST /vehicles/{id}/allocations. ' +
            "An admin's monthlyAllocationLitres applies from the current month. " +
            'Changes to the tank, rated use, idle use, fuel type and allocation are written to the audit log.',
          params: idParams,
          body: patchVehicle,
          response: { 200: vehicle, 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse },
        },
      },
      async (request) => {
        const found = await vehicles.findById(request.auth, request.params.id);
        if (!found) throw new NotFoundError('Vehicle');
        const { monthlyAllocationLitres, ...patch } = request.body;
        if (request.auth.role === 'manager') {
          const refused = (['monthlyAllocationLitres', 'tankCapacityLitres'] as const).filter((f) => request.body[f] !== undefined);
          if (refused.length > 0) {
            throw new ForbiddenError(
              `A manager may not change ${refused.join(' or ')}: allocations and tank capacity are set by finance or an admin ` +
                '(POST /api/v1/vehicles/{id}/allocations).',
            );
          }
        }
        if (patch.departmentId) {
          assertDepartmentVisible(request.auth, patch.departmentId);
          if (!(await departments.findById(patch.departmentId))) throw new NotFoundError('Department');
        }
        const allocationMl =
          monthlyAllocationLitres === undefined ? undefined : parseLitres(Math.round(monthlyAllocationLitres * 1000) / 1000);
        const ctx = { actor: actorOf(request.auth), scope: request.auth, now: deps.now() };
        const updated = await deps.services.catalog.patchVehicle(found.id, patch, allocationMl, ctx);
        return (await withCurrentAllocation([updated]))[0]!;
      },
    );
  };
}
