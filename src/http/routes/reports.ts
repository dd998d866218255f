/** GET /reports/fuel: the fleet fuel report, one row per vehicle, from the daily rollups. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fuelSources } from '../../db/schema.js';
import { dayStartMs, localDayOf } from '../../domain/report-time.js';
import type { AppDeps } from '../app.js';
import { assertDepartmentVisible } from '../auth.js';
import { sendCsv, toCsv, wantsCsv, type CsvColumn } from '../csv.js';
import { formatParam, isoOf, resolvePeriod, round, roundOrNull } from '../report-params.js';
import { errorResponse, isoTime } from '../schemas.js';

const row = z.object({
  vehicleId: z.uuid(),
  plateNumber: z.string(),
  departmentId: z.uuid(),
  kind: z.string(),
  fuelType: z.string(),
  distanceKm: z.number(),
  fuelUsedLitres: z.number(),
  litresPer100Km: z.number().nullable(),
  idleLitres: z.number(),
  fuelSource: z.enum(fuelSources),
  ratedLitres: z.number(),
  refuelCount: z.number(),
  refuelledLitres: z.number(),
  drainCount: z.number(),
  drainedLitres: z.number(),
  engineHours: z.number(),
  idleHours: z.number(),
  drivingHours: z.number(),
  distanceOutsideHoursKm: z.number(),
  tripCount: z.number(),
});
type Row = z.infer<typeof row>;

const columns: Array<CsvColumn<Row>> = (Object.keys(row.shape) as Array<keyof Row>).map((k) => ({ header: k, value: (r: Row) => r[k] }));

const MAX_DAYS = 731;

export function reportRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { vehicles } = deps.repos;
  const { analytics } = deps.services;
  const tz = analytics.settings.reportTz;
  return async (app) => {
    app.get(
      '/reports/fuel',
      {
        schema: {
          tags: ['analytics'],
          summary: 'The fleet fuel report: one row per vehicle',
          description:
            'Whole report days come from the daily rollups; only partial days at the edges are computed from readings. Default period: the current month (REPORT_TZ) up to now. A department-limited key sees its own department. CSV with `?format=csv`.',
          querystring: z.object({
            from: isoTime.optional().describe('Default: the start of the current month in REPORT_TZ'),
            to: isoTime.optional().describe('Default: now'),
            departmentId: z.uuid().optional(),
            format: formatParam,
          }),
          response: { 200: z.array(row), 400: errorResponse, 404: errorResponse },
        },
      },
      async (request, reply) => {
        const nowMs = deps.now().getTime();
        const monthStart = (toMs: number) => dayStartMs(tz, `${localDayOf(tz, toMs).slice(0, 7)}-01`);
        const { fromMs, toMs } = resolvePeriod(request.query, nowMs, { fromMs: (t) => Math.min(monthStart(t), t - 1), maxDays: MAX_DAYS });
        if (request.query.departmentId) assertDepartmentVisible(request.auth, request.query.departmentId);
        const fleet = await vehicles.list(request.auth, request.query.departmentId ? { departmentId: request.query.departmentId } : {});
        const report = await analytics.fleetFuel(fleet, fromMs, toMs, nowMs);
        const rows: Row[] = report.map((r, i) => {
          const v = fleet[i]!;
          return {
            vehicleId: v.id,
            plateNumber: v.plateNumber,
            departmentId: v.departmentId,
            kind: v.kind,
            fuelType: v.fuelType,
            distanceKm: round(r.distanceKm, 3),
            fuelUsedLitres: round(r.fuelUsedLitres, 2),
            litresPer100Km: roundOrNull(r.litresPer100Km, 2),
            idleLitres: round(r.idleLitres, 2),
            fuelSource: r.fuelSource,
            ratedLitres: round(r.ratedLitres, 2),
            refuelCount: r.refuelCount,
            refuelledLitres: round(r.refuelledLitres, 2),
            drainCount: r.drainCount,
            drainedLitres: round(r.drainedLitres, 2),
            engineHours: round(r.engineHours, 3),
            idleHours: round(r.idleHours, 3),
            drivingHours: round(r.drivingHours, 3),
            distanceOutsideHoursKm: round(r.distanceOutsideHoursKm, 3),
            tripCount: r.tripCount,
          };
        });
        return wantsCsv(request) ? sendCsv(reply, `fuel-report-${isoOf(fromMs).slice(0, 10)}.csv`, toCsv(columns, rows)) : rows;
      },
    );
  };
}
