/** GET /vehicles/{id}/fuel: litres used (and by which source), refuels and drains over a period. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError } from '../../errors.js';
import { fuelSources } from '../../db/schema.js';
import type { FuelEvent } from '../../domain/fuel/index.js';
import type { AppDeps } from '../app.js';
import { sendCsv, toCsv, wantsCsv, type CsvColumn } from '../csv.js';
import { isoOf, periodParams, resolvePeriod, round, roundOrNull } from '../report-params.js';
import { errorResponse, idParams } from '../schemas.js';

const event = z.object({
  at: z.string().describe('When the level began to change'),
  lat: z.number(),
  lon: z.number(),
  litres: z.number(),
  endAt: z.string(),
  levelBeforeLitres: z.number(),
  levelAfterLitres: z.number(),
  moving: z.boolean().describe('Drains only: the vehicle was driving (the level fell faster than driving explains)'),
});

const fuelReport = z.object({
  vehicleId: z.uuid(),
  from: z.string(),
  to: z.string(),
  distanceKm: z.number(),
  fuelUsedLitres: z.number(),
  litresPer100Km: z.number().nullable().describe('null below 1 km driven'),
  idleLitres: z.number().describe('Burnt idling: from the counter when it measured the period, else idle L/h × idle hours'),
  fuelSource: z
    .enum(fuelSources)
    .describe('counter, sensor or rated: the source that measured the period (the weakest used, if days differed)'),
  ratedLitres: z.number().describe('Rated L/100 km × distance + idle L/h × idle hours, for comparison'),
  refuels: z.array(event),
  drains: z.array(event),
  refuelledLitres: z.number(),
  drainedLitres: z.number(),
  startLevelLitres: z.number().nullable(),
  endLevelLitres: z.number().nullable(),
  engineHours: z.number(),
  idleHours: z.number(),
  drivingHours: z.number(),
  distanceOutsideHoursKm: z.number().describe('Driven outside WORKING_HOURS'),
});

const eventView = (e: FuelEvent) => ({
  at: isoOf(e.atMs),
  lat: e.lat,
  lon: e.lon,
  litres: round(e.litres, 2),
  endAt: isoOf(e.endMs),
  levelBeforeLitres: round(e.levelBeforeLitres, 2),
  levelAfterLitres: round(e.levelAfterLitres, 2),
  moving: e.moving,
});

type Report = z.infer<typeof fuelReport>;
type CsvRow = { record: string; report: Report; event?: ReturnType<typeof eventView> };

/** One summary row, then one row per refuel and drain. */
const csvColumns: Array<CsvColumn<CsvRow>> = [
  { header: 'record', value: (r) => r.record },
  { header: 'vehicleId', value: (r) => r.report.vehicleId },
  { header: 'from', value: (r) => (r.event ? null : r.report.from) },
  { header: 'to', value: (r) => (r.event ? null : r.report.to) },
  { header: 'distanceKm', value: (r) => (r.event ? null : r.report.distanceKm) },
  { header: 'fuelUsedLitres', value: (r) => (r.event ? null : r.report.fuelUsedLitres) },
  { header: 'litresPer100Km', value: (r) => (r.event ? null : r.report.litresPer100Km) },
  { header: 'idleLitres', value: (r) => (r.event ? null : r.report.idleLitres) },
  { header: 'fuelSource', value: (r) => (r.event ? null : r.report.fuelSource) },
  { header: 'engineHours', value: (r) => (r.event ? null : r.report.engineHours) },
  { header: 'idleHours', value: (r) => (r.event ? null : r.report.idleHours) },
  { header: 'at', value: (r) => r.event?.at },
  { header: 'endAt', value: (r) => r.event?.endAt },
  { header: 'lat', value: (r) => r.event?.lat },
  { header: 'lon', value: (r) => r.event?.lon },
  { header: 'litres', value: (r) => r.event?.litres },
  { header: 'levelBeforeLitres', value: (r) => r.event?.levelBeforeLitres },
  { header: 'levelAfterLitres', value: (r) => r.event?.levelAfterLitres },
];

const MAX_DAYS = 366;

export function fuelRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { vehicles } = deps.repos;
  const { analytics } = deps.services;
  return async (app) => {
    app.get(
      '/vehicles/:id/fuel',
      {
        schema: {
          tags: ['analytics'],
          summary: "A vehicle's fuel over a period: litres used, refuels and drains",
          description:
            'Best source first: the CAN counter, else the tank sensor (smoothed, refuels and drains taken out), else rated consumption. CSV with `?format=csv`: a summary row, then one row per refuel and drain.',
          params: idParams,
          querystring: z.object(periodParams),
          response: { 200: fuelReport, 400: errorResponse, 404: errorResponse },
        },
      },
      async (request, reply) => {
        const found = await vehicles.findById(request.auth, request.params.id);
        if (!found) throw new NotFoundError('Vehicle');
        const { fromMs, toMs } = resolvePeriod(request.query, deps.now().getTime(), { maxDays: MAX_DAYS });
        const { fuel } = await analytics.vehiclePeriod(found, fromMs, toMs);
        const refuels = fuel.refuels.map(eventView);
        const drains = fuel.drains.map(eventView);
        const report: Report = {
          vehicleId: found.id,
          from: isoOf(fromMs),
          to: isoOf(toMs),
          distanceKm: round(fuel.distanceKm, 3),
          fuelUsedLitres: round(fuel.fuelUsedLitres, 2),
          litresPer100Km: roundOrNull(fuel.litresPer100Km, 2),
          idleLitres: round(fuel.idleLitres, 2),
          fuelSource: fuel.fuelSource,
          ratedLitres: round(fuel.ratedLitres, 2),
          refuels,
          drains,
          refuelledLitres: round(
            fuel.refuels.reduce((s, e) => s + e.litres, 0),
            2,
          ),
          drainedLitres: round(
            fuel.drains.reduce((s, e) => s + e.litres, 0),
            2,
          ),
          startLevelLitres: roundOrNull(fuel.startLevelLitres, 2),
          endLevelLitres: roundOrNull(fuel.endLevelLitres, 2),
          engineHours: round(fuel.engineS / 3600, 3),
          idleHours: round(fuel.idleS / 3600, 3),
          drivingHours: round(fuel.drivingS / 3600, 3),
          distanceOutsideHoursKm: round(fuel.distanceOutsideHoursKm, 3),
        };
        if (!wantsCsv(request)) return report;
        const rows: CsvRow[] = [
          { record: 'summary', report },
          ...[
            ...refuels.map((e) => ({ record: 'refuel', report, event: e })),
            ...drains.map((e) => ({ record: 'drain', report, event: e })),
          ].sort((a, b) => a.event.at.localeCompare(b.event.at)),
        ];
        return sendCsv(reply, `${found.plateNumber}-fuel-${report.from.slice(0, 10)}.csv`, toCsv(csvColumns, rows));
      },
    );
  };
}
