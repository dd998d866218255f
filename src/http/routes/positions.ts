import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BadRequestError, NotFoundError } from '../../errors.js';
import { vehicleStatus } from '../../domain/status.js';
import type { AppDeps } from '../app.js';
import type { LatestPositionRow } from '../../repositories/positions.js';
import { errorResponse, idParams, isoTime } from '../schemas.js';

const latestPosition = z.object({
  vehicleId: z.uuid(),
  plateNumber: z.string(),
  departmentId: z.uuid(),
  at: z.string(),
  lat: z.number(),
  lon: z.number(),
  speedKmh: z.number().nullable(),
  headingDeg: z.number().nullable(),
  fuelLitres: z.number().nullable().describe('From the sensor in litres, or its percentage times the tank capacity'),
  ignition: z.boolean().nullable(),
  status: z.enum(['moving', 'idle', 'stopped', 'offline']),
});

const trackFeature = z.object({
  type: z.literal('Feature'),
  geometry: z.object({ type: z.literal('Point'), coordinates: z.array(z.number()).length(2).describe('[lon, lat]') }),
  properties: z.object({
    at: z.string(),
    speedKmh: z.number().nullable(),
    headingDeg: z.number().nullable(),
    fuelLitres: z.number().nullable(),
    ignition: z.boolean().nullable(),
    altitudeM: z.number().nullable(),
    accuracyM: z.number().nullable().describe("The fix's horizontal accuracy, as an OwnTracks phone reports it (`acc`)"),
    phoneBatteryPercent: z.number().nullable().describe("The phone's battery, as an OwnTracks phone reports it (`batt`)"),
  }),
});
const trackCollection = z.object({
  type: z.literal('FeatureCollection'),
  features: z.array(trackFeature),
  truncated: z.boolean().describe('True when more points lay in the period than `limit`; ask for a shorter period'),
});

/** A latest-position row as the API shows it, with the vehicle's status now. */
export function toLatestPosition(r: LatestPositionRow, nowMs: number): z.infer<typeof latestPosition> {
  return {
    vehicleId: r.vehicleId,
    plateNumber: r.plateNumber,
    departmentId: r.departmentId,
    at: r.fixAt.toISOString(),
    lat: r.lat,
    lon: r.lon,
    speedKmh: r.speedKmh,
    headingDeg: r.headingDeg,
    fuelLitres: r.fuelLitres ?? (r.fuelPercent === null ? null : Math.round(r.fuelPercent * r.tankCapacityLitres) / 100),
    ignition: r.ignition,
    status: vehicleStatus({ fixAtMs: r.fixAt.getTime(), speedKmh: r.speedKmh, ignition: r.ignition }, nowMs),
  };
}

const DAY_MS = 86_400_000;
const MAX_TRACK_RANGE_MS = 31 * DAY_MS;

export function positionRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { positions, vehicles } = deps.repos;
  return async (app) => {
    app.get(
      '/positions/latest',
      {
        schema: {
          tags: ['positions'],
          summary: "Each visible vehicle's newest position and status",
          querystring: z.object({ departmentId: z.uuid().optional() }),
          response: { 200: z.array(latestPosition) },
        },
      },
      async (request) => {
        const nowMs = deps.now().getTime();
        const rows = await positions.latest(request.auth, request.query);
        return rows.map((r) => toLatestPosition(r, nowMs));
      },
    );

    app.get(
      '/vehicles/:id/track',
      {
        schema: {
          tags: ['positions'],
          summary: "A vehicle's positions in a period, as GeoJSON points in time order",
          params: idParams,
          querystring: z.object({
            from: isoTime.optional().describe('Default: 24 hours before `to`'),
            to: isoTime.optional().describe('Default: now'),
            limit: z.coerce.number().int().min(1).max(100_000).default(20_000),
          }),
          response: { 200: trackCollection, 400: errorResponse, 404: errorResponse },
        },
      },
      async (request) => {
        const found = await vehicles.findById(request.auth, request.params.id);
        if (!found) throw new NotFoundError('Vehicle');
        const toMs = request.query.to ? Date.parse(request.query.to) : deps.now().getTime();
        const fromMs = request.query.from ? Date.parse(request.query.from) : toMs - DAY_MS;
        if (fromMs >= toMs) throw new BadRequestError('`from` must be before `to`.');
        if (toMs - fromMs > MAX_TRACK_RANGE_MS) throw new BadRequestError('A track spans at most 31 days; ask for a shorter period.');
        const { points, truncated } = await positions.track(found.id, fromMs, toMs, request.query.limit);
        return {
          type: 'FeatureCollection' as const,
          truncated,
          features: points.map((p) => ({
            type: 'Feature' as const,
            geometry: { type: 'Point' as const, coordinates: [p.lon, p.lat] as [number, number] },
            properties: {
              at: p.fixAt.toISOString(),
              speedKmh: p.speedKmh,
              headingDeg: p.headingDeg,
              fuelLitres: p.fuelLitres,
              ignition: p.ignition,
              altitudeM: p.altitudeM,
              accuracyM: p.accuracyM,
              phoneBatteryPercent: p.phoneBatteryPercent,
            },
          })),
        };
      },
    );
  };
}
