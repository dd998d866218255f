import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError } from '../../errors.js';
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
      async (request) => (await vehicles.list(request.auth, request.query)).map(vehicleView),
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
        const created = await vehicles.create(request.body);
        return reply.code(201).send(vehicleView(created));
      },
    );

    app.get(
      '/vehicles/:id',
      { schema: { tags: ['vehicles'], summary: 'One vehicle', params: idParams, response: { 200: vehicle, 404: errorResponse } } },
      async (request) => {
        const found = await vehicles.findById(request.auth, request.params.id);
        if (!found) throw new NotFoundError('Vehicle');
        return vehicleView(found);
      },
    );

    app.patch(
      '/vehicles/:id',
      {
        preHandler: requireRole('admin', 'manager'),
        schema: {
          tags: ['vehicles'],
          summary: 'Change a vehicle',
          params: idParams,
          body: patchVehicle,
          response: { 200: vehicle, 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse },
        },
      },
      async (request) => {
        const found = await vehicles.findById(request.auth, request.params.id);
        if (!found) throw new NotFoundError('Vehicle');
        if (request.body.departmentId) {
          assertDepartmentVisible(request.auth, request.body.departmentId);
          if (!(await departments.findById(request.body.departmentId))) throw new NotFoundError('Department');
        }
        const updated = await vehicles.update(found.id, request.body);
        if (!updated) throw new NotFoundError('Vehicle');
        return vehicleView(updated);
      },
    );
  };
}
