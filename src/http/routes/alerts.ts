import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { alertView } from '../../alerts/engine.js';
import { alertKinds } from '../../domain/alerts.js';
import {
  geofenceGeometrySchema,
  MAX_GEOFENCE_VERTICES,
  MAX_GEOFENCES_PER_DEPARTMENT,
  vertexCount,
  type GeofenceGeometry,
} from '../../domain/geofence.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../../errors.js';
import { assertDepartmentVisible, requireRole, type AuthContext } from '../auth.js';
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

const geofence = z.object({
  id: z.uuid(),
  name: z.string(),
  departmentId: z.uuid().nullable(),
  geometry: geofenceGeometrySchema,
  createdAt: z.string(),
});

type Ring = ReadonlyArray<readonly [number, number]>;

/** Twice the ring's signed area in square degrees (the shoelace formula); 0 for a ring that encloses nothing. */
function ringArea2(ring: Ring): number {
  let sum = 0;
  for (let i = 0; i + 1 < ring.length; i++) sum += ring[i]![0] * ring[i + 1]![1] - ring[i + 1]![0] * ring[i]![1];
  return sum;
}

/**
 * What a geofence sent to the API must be, beyond the GeoJSON shape that
 * geofenceGeometrySchema checks (positions in range, rings of four positions or more
 * that end where they start): every ring must enclose an area, and the geometry holds at
 * most MAX_GEOFENCE_VERTICES positions (every reading is tested against every vertex). A ring whose corners
 * are all the same point, or lie on one line, contains no position, so no vehicle
 * could ever be inside it, and leaving it would never raise an alert.
 */
const geofenceInput = geofenceGeometrySchema.superRefine((geometry: GeofenceGeometry, ctx) => {
  const vertices = vertexCount(geometry);
  if (vertices > MAX_GEOFENCE_VERTICES) {
    const message = `at most ${MAX_GEOFENCE_VERTICES} positions in all (got ${vertices}): simplify the boundary`;
    ctx.addIssue({ code: 'custom', path: ['coordinates'], message });
    return;
  }
  const polygons: Array<{ rings: readonly Ring[]; path: number[] }> =
    geometry.type === 'Polygon'
      ? [{ rings: geometry.coordinates, path: [] }]
      : geometry.coordinates.map((rings, p) => ({ rings, path: [p] }));
  for (const { rings, path } of polygons) {
    rings.forEach((ring, r) => {
      // 1e-12 square degrees is about a hundredth of a square metre.
      if (Math.abs(ringArea2(ring)) < 2e-12) {
        ctx.addIssue({
          code: 'custom',
          path: ['coordinates', ...path, r],
          message: 'a ring must enclose an area: its corners are one point or on one line',
        });
      }
    });
  }
});

const geofenceMessage = {
  cityWide:
    'A city-wide geofence (one without a department) applies to every department: only an admin key without a department may add, change or remove one.',
};

/**
 * Who may add, change or remove a geofence (the role, admin or manager, is checked
 * before). A city-wide geofence, with no department, applies to every department's
 * vehicles: only an admin key without a department may write one, so neither a manager
 * nor an admin limited to one department can change the city boundary for everybody.
 * A department's geofence: a key that sees that department (other departments' answer
 * 404, as everywhere).
 */
function assertMayWriteGeofence(auth: AuthContext, departmentId: string | null, what = 'Geofence'): void {
  if (departmentId === null) {
    if (auth.role !== 'admin' || auth.departmentId) throw new ForbiddenError(geofenceMessage.cityWide);
    return;
  }
  assertDepartmentVisible(auth, departmentId, what);
}

const geofenceView = (g: { id: string; name: string; departmentId: string | null; geometry: GeofenceGeometry; createdAt: Date }) => ({
  ...g,
  createdAt: iso(g.createdAt)!,
});

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
        // Finance acknowledges the reconciliation's receipt_* alerts (and may any other in its scope).
        preHandler: requireRole('admin', 'manager', 'finance'),
        schema: {
          tags: ['alerts'],
          summary: 'Acknowledge an alert (the first acknowledgement stands)',
          params: z.object({ id: z.coerce.number().int().positive() }),
          // No body at all (Fastify's null), an empty one or {}: the note is optional.
          body: z.object({ note: z.string().trim().max(1000).optional() }).nullish(),
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
      {
        schema: {
          tags: ['alerts'],
          summary: 'Geofences (GeoJSON), by name; leaving one raises an alert',
          description: 'A page at a time: while a page is full, ask for the next with `offset` + `limit`.',
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(1000).default(500),
            offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
          }),
          response: { 200: z.array(geofence), 400: errorResponse },
        },
      },
      async (request) => {
        const page = { limit: request.query.limit, offset: request.query.offset };
        return (await geofences.list(request.auth, page)).map(geofenceView);
      },
    );

    app.post(
      '/geofences',
      {
        preHandler: requireRole('admin', 'manager'),
        schema: {
          tags: ['alerts'],
          summary: 'Add a geofence: a GeoJSON Polygon or MultiPolygon ([lon, lat] positions)',
          description:
            "Without `departmentId` the geofence is the key's department's, or city-wide (every department's vehicles) " +
            'for a key without a department; a city-wide geofence needs an admin key without a department. ' +
            'At most 10,000 positions in a geometry (400), and 100 geofences per department or city-wide (409).',
          body: z.object({ name: z.string().trim().min(1).max(200), departmentId: z.uuid().optional(), geometry: geofenceInput }),
          response: { 201: geofence, 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse },
        },
      },
      async (request, reply) => {
        const departmentId = request.body.departmentId ?? request.auth.departmentId ?? null;
        assertMayWriteGeofence(request.auth, departmentId, 'Department');
        if (departmentId && !(await departments.findById(departmentId))) throw new NotFoundError('Department');
        const fence = { name: request.body.name, departmentId, geometry: request.body.geometry };
        const created = await geofences.createWithin(fence, MAX_GEOFENCES_PER_DEPARTMENT);
        if (created === 'full') {
          throw new ConflictError(
            `${departmentId ? 'This department has' : 'There are'} ${MAX_GEOFENCES_PER_DEPARTMENT} ` +
              `${departmentId ? '' : 'city-wide '}geofences ` +
              'already, the most there may be: remove one, or join several into a MultiPolygon.',
          );
        }
        deps.onGeofencesChanged?.();
        return reply.code(201).send(geofenceView(created));
      },
    );

    app.patch(
      '/geofences/:id',
      {
        preHandler: requireRole('admin', 'manager'),
        schema: {
          tags: ['alerts'],
          summary: 'Rename a geofence or replace its area (GeoJSON Polygon or MultiPolygon, [lon, lat] positions)',
          description:
            'Its department stays: to move a geofence to another department, remove it and add it there. A city-wide geofence needs an admin key without a department. An ingest worker in the same process judges the next readings with the change; workers in other processes within 30 seconds.',
          params: z.object({ id: z.uuid() }),
          body: z
            .object({ name: z.string().trim().min(1).max(200).optional(), geometry: geofenceInput.optional() })
            .strict()
            .refine((b) => b.name !== undefined || b.geometry !== undefined, { message: 'give `name`, `geometry` or both' }),
          response: { 200: geofence, 400: errorResponse, 403: errorResponse, 404: errorResponse },
        },
      },
      async (request) => {
        const found = await geofences.findById(request.auth, request.params.id);
        if (!found) throw new NotFoundError('Geofence');
        assertMayWriteGeofence(request.auth, found.departmentId);
        const updated = await geofences.update(found.id, {
          ...(request.body.name !== undefined ? { name: request.body.name } : {}),
          ...(request.body.geometry !== undefined ? { geometry: request.body.geometry } : {}),
        });
        if (!updated) throw new NotFoundError('Geofence');
        deps.onGeofencesChanged?.();
        return geofenceView(updated);
      },
    );

    app.delete(
      '/geofences/:id',
      {
        preHandler: requireRole('admin', 'manager'),
        schema: {
          tags: ['alerts'],
          summary: 'Remove a geofence',
          params: z.object({ id: z.uuid() }),
          response: { 204: z.null(), 403: errorResponse, 404: errorResponse },
        },
      },
      async (request, reply) => {
        const found = await geofences.findById(request.auth, request.params.id);
        if (!found) throw new NotFoundError('Geofence');
        assertMayWriteGeofence(request.auth, found.departmentId);
        await geofences.remove(found.id);
        deps.onGeofencesChanged?.();
        return reply.code(204).send(null);
      },
    );
  };
}
