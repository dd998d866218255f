import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { alertView } from '../../alerts/engine.js';
import { alertKinds } from '../../domain/alerts.js';
import { geofenceGeometrySchema } from '../../domain/geofence.js';
import { BadRequestError, ForbiddenError, NotFoundError } from '../../errors.js';
import { assertDepartmentVisible, requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { errorResponse, iso, isoTime } from '../schemas.js';

const alert = z.object({
  id: z.number(),
  kind: z.enum(alertKinds),
  vehicleId: z.uuid(),
  plateNumber: z.string(),
  departmentId: z.uuid(),
  at: z.string(),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
  acknowledgedAt: z.string().nullable(),
  acknowledgedNote: z.string().nullable(),
});

const geofence = z.object({ id: z.uuid(), name: z.string(), departmentId: z.uuid().nullable(), geometry: geofenceGeometrySchema, createdAt: z.string() });

export function alertRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { alerts, geofences, departments } = deps.repos;
  return async (app) => {
    app.get(
      '/alerts',
      {
        schema: {
          tags: ['alerts'],
          summary: 'Alerts in a period, newest first',
          querystring: z.object({
            from: isoTime.optional().describe('Default: 24 hours before `to`'),
            to: isoTime.optional().describe('Default: now'),
            departmentId: z.uuid().optional(),
            vehicleId: z.uuid().optional(),
            kind: z.enum(alertKinds).optional(),
            unacknowledged: z.enum(['true', 'false']).optional(),
            limit: z.coerce.number().int().min(1).max(5000).default(500),
          }),
          response: { 200: z.array(alert), 400: errorResponse },
        },
      },
      async (request) => {
        const q = request.query;
        const toMs = q.to ? Date.parse(q.to) : deps.now().getTime() + 1;
        const fromMs = q.from ? Date.parse(q.from) : toMs - 86_400_000;
        if (fromMs >= toMs) throw new BadRequestError('`from` must be before `to`.');
        const rows = await alerts.list(request.auth, {
          fromMs,
          toMs,
          limit: q.limit,
          unacknowledged: q.unacknowledged === 'true',
          ...(q.departmentId ? { departmentId: q.departmentId } : {}),
          ...(q.vehicleId ? { vehicleId: q.vehicleId } : {}),
          ...(q.kind ? { kind: q.kind } : {}),
        });
        return rows.map((a) => alertView(a) as z.infer<typeof alert>);
      },
    );

    app.post(
      '/alerts/:id/acknowledge',
      {
        preHandler: requireRole('admin', 'manager'),
        schema: {
          tags: ['alerts'],
          summary: 'Acknowledge an alert (the first acknowledgement stands)',
          params: z.object({ id: z.coerce.number().int().positive() }),
          body: z.object({ note: z.string().trim().max(1000).optional() }).optional(),
          response: { 200: alert, 403: errorResponse, 404: errorResponse },
        },
      },
      async (request) => {
        const found = await alerts.findById(request.auth, request.params.id);
        if (!found) throw new NotFoundError('Alert');
        await alerts.acknowledge(found.id, request.auth.keyId, request.body?.note ?? null, deps.now());
        return alertView((await alerts.findById(request.auth, found.id))!) as z.infer<typeof alert>;
      },
    );

    app.get(
      '/geofences',
      { schema: { tags: ['alerts'], summary: 'Geofences (GeoJSON); leaving one raises an alert', response: { 200: z.array(geofence) } } },
      async (request) => (await geofences.list(request.auth)).map((g) => ({ ...g, createdAt: iso(g.createdAt)! })),
    );

    app.post(
      '/geofences',
      {
        preHandler: requireRole('admin', 'manager'),
        schema: {
          tags: ['alerts'],
          summary: 'Add a geofence: a GeoJSON Polygon or MultiPolygon ([lon, lat] positions)',
          body: z.object({ name: z.string().trim().min(1).max(200), departmentId: z.uuid().optional(), geometry: geofenceGeometrySchema }),
          response: { 201: geofence, 400: errorResponse, 403: errorResponse, 404: errorResponse },
        },
      },
      async (request, reply) => {
        const departmentId = request.body.departmentId ?? request.auth.departmentId;
        if (request.auth.role === 'manager' && !departmentId) throw new ForbiddenError('A city-wide geofence needs an admin key.');
        if (departmentId) {
          assertDepartmentVisible(request.auth, departmentId);
          if (!(await departments.findById(departmentId))) throw new NotFoundError('Department');
        }
        const created = await geofences.create({ name: request.body.name, departmentId, geometry: request.body.geometry });
        return reply.code(201).send({ ...created, createdAt: iso(created.createdAt)! });
      },
    );

    app.delete(
      '/geofences/:id',
      {
        preHandler: requireRole('admin', 'manager'),
        schema: { tags: ['alerts'], summary: 'Remove a geofence', params: z.object({ id: z.uuid() }), response: { 204: z.null(), 403: errorResponse, 404: errorResponse } },
      },
      async (request, reply) => {
        const found = await geofences.findById(request.auth, request.params.id);
        if (!found) throw new NotFoundError('Geofence');
        if (!found.departmentId && request.auth.role !== 'admin') throw new ForbiddenError('A city-wide geofence needs an admin key.');
        if (found.departmentId && request.auth.departmentId && found.departmentId !== request.auth.departmentId) throw new NotFoundError('Geofence');
        await geofences.remove(found.id);
        return reply.code(204).send(null);
      },
    );
  };
}
