/** GET /vehicles/{id}/trips and /vehicles/{id}/stops: Traccar's semantics, thresholds from settings or the request. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError } from '../../errors.js';
import type { SegmentPiece } from '../../domain/analysis.js';
import type { TripSettings } from '../../domain/trips.js';
import type { AppDeps } from '../app.js';
import { sendCsv, toCsv, wantsCsv, type CsvColumn } from '../csv.js';
import { isoOf, periodParams, resolvePeriod, round, tripOverrideParams } from '../report-params.js';
import { errorResponse, idParams } from '../schemas.js';

const point = z.object({ lat: z.number(), lon: z.number() });

const trip = z.object({
  startAt: z.string(),
  endAt: z.string(),
  durationS: z.number(),
  distanceKm: z.number(),
  avgSpeedKmh: z.number().describe('Distance over duration'),
  maxSpeedKmh: z.number(),
  fuelUsedLitres: z.number().describe('By the same source as the fuel report for the period'),
  start: point,
  end: point,
  idleS: z.number().describe('Engine on, standing, within the trip (red lights)'),
  partial: z.boolean().describe('The trip began before `from` or goes on after `to`; it is cut at the period’s edge'),
});

const stop = z.object({
  startAt: z.string(),
  endAt: z.string(),
  durationS: z.number(),
  lat: z.number(),
  lon: z.number(),
  engineOnS: z.number().describe('Seconds the engine ran during the stop (idling)'),
  partial: z.boolean().describe('The stop began before `from` or goes on after `to`'),
});

const durationS = (p: SegmentPiece) => Math.round((p.endMs - p.startMs) / 1000);

export const tripView = (p: SegmentPiece) => ({
  startAt: isoOf(p.startMs),
  endAt: isoOf(p.endMs),
  durationS: durationS(p),
  distanceKm: round(p.distanceM / 1000, 3),
  avgSpeedKmh: durationS(p) > 0 ? round(p.distanceM / 1000 / (durationS(p) / 3600), 1) : 0,
  maxSpeedKmh: round(p.maxSpeedKmh, 1),
  fuelUsedLitres: round(p.fuelUsedLitres, 2),
  start: { lat: p.startLat, lon: p.startLon },
  end: { lat: p.endLat, lon: p.endLon },
  idleS: Math.round(p.idleS),
  partial: p.clippedStart || p.clippedEnd,
});

export const stopView = (p: SegmentPiece) => ({
  startAt: isoOf(p.startMs),
  endAt: isoOf(p.endMs),
  durationS: durationS(p),
  lat: p.startLat,
  lon: p.startLon,
  engineOnS: Math.round(p.engineOnS),
  partial: p.clippedStart || p.clippedEnd,
});

type TripView = ReturnType<typeof tripView>;
type StopView = ReturnType<typeof stopView>;

const tripCsv: Array<CsvColumn<TripView>> = [
  { header: 'startAt', value: (t) => t.startAt },
  { header: 'endAt', value: (t) => t.endAt },
  { header: 'durationS', value: (t) => t.durationS },
  { header: 'distanceKm', value: (t) => t.distanceKm },
  { header: 'avgSpeedKmh', value: (t) => t.avgSpeedKmh },
  { header: 'maxSpeedKmh', value: (t) => t.maxSpeedKmh },
  { header: 'fuelUsedLitres', value: (t) => t.fuelUsedLitres },
  { header: 'startLat', value: (t) => t.start.lat },
  { header: 'startLon', value: (t) => t.start.lon },
  { header: 'endLat', value: (t) => t.end.lat },
  { header: 'endLon', value: (t) => t.end.lon },
  { header: 'idleS', value: (t) => t.idleS },
  { header: 'partial', value: (t) => t.partial },
];

const stopCsv: Array<CsvColumn<StopView>> = [
  { header: 'startAt', value: (s) => s.startAt },
  { header: 'endAt', value: (s) => s.endAt },
  { header: 'durationS', value: (s) => s.durationS },
  { header: 'lat', value: (s) => s.lat },
  { header: 'lon', value: (s) => s.lon },
  { header: 'engineOnS', value: (s) => s.engineOnS },
  { header: 'partial', value: (s) => s.partial },
];

/** Trips and stops can come from the rollups for a year; recomputed with other thresholds, for a month. */
const MAX_DAYS = 366;
const MAX_DAYS_WITH_OVERRIDES = 31;

export function tripRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { vehicles } = deps.repos;
  const { analytics } = deps.services;
  const querystring = z.object({ ...periodParams, ...tripOverrideParams });
  return async (app) => {
    for (const kind of ['trips', 'stops'] as const) {
      app.get(
        `/vehicles/:id/${kind}`,
        {
          schema: {
            tags: ['analytics'],
            summary:
              kind === 'trips'
                ? "A vehicle's trips in a period (Traccar's semantics)"
                : "A vehicle's stops in a period (Traccar's semantics)",
            description:
              'Thresholds default to the settings (REPORT_TRIP_*, REPORT_STOP_MIN_DURATION_S, REPORT_MOTION_MIN_SPEED_KMH) and can be overridden here. JSON array, or CSV with `?format=csv` or `Accept: text/csv`.',
            params: idParams,
            querystring,
            response: { 200: z.array(kind === 'trips' ? trip : stop), 400: errorResponse, 404: errorResponse },
          },
        },
        async (request, reply) => {
          const found = await vehicles.findById(request.auth, request.params.id);
          if (!found) throw new NotFoundError('Vehicle');
          const { from, to, format: _format, ...overrides } = request.query;
          const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<TripSettings>;
          const hasOverrides = Object.keys(given).length > 0;
          const { fromMs, toMs } = resolvePeriod({ from, to }, deps.now().getTime(), {
            maxDays: hasOverrides ? MAX_DAYS_WITH_OVERRIDES : MAX_DAYS,
          });
          const period = await analytics.vehiclePeriod(found, fromMs, toMs, given);
          const name = `${found.plateNumber}-${kind}-${isoOf(fromMs).slice(0, 10)}`;
          if (kind === 'trips') {
            const rows = period.trips.map(tripView);
            return wantsCsv(request) ? sendCsv(reply, `${name}.csv`, toCsv(tripCsv, rows)) : rows;
          }
          const rows = period.stops.map(stopView);
          return wantsCsv(request) ? sendCsv(reply, `${name}.csv`, toCsv(stopCsv, rows)) : rows;
        },
      );
    }
  };
}
