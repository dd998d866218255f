/** GET /reports/fuel: the fleet fuel report, one row per vehicle, from the daily rollups; JSON, CSV or XLSX. */
import ExcelJS from 'exceljs';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fuelSources } from '../../db/schema.js';
import { addDays, dayStartMs, localDayOf } from '../../domain/report-time.js';
import { localDate, localStamp, neutralise } from '../../finance/exports.js';
import type { AppDeps } from '../app.js';
import { assertDepartmentVisible } from '../auth.js';
import { sendCsv, toCsv, wantsCsv, type CsvColumn } from '../csv.js';
import { resolvePeriod, round, roundOrNull } from '../report-params.js';
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

/** The CSV's row: the JSON row, its department's name and the period in local time (REPORT_TZ). */
type CsvRow = Row & { departmentName: string; from: string; to: string };
const columns: Array<CsvColumn<CsvRow>> = [
  ...(Object.keys(row.shape) as Array<keyof Row>).map((k) => ({ header: k, value: (r: CsvRow) => r[k] })),
  { header: 'departmentName', value: (r: CsvRow) => r.departmentName },
  { header: 'from', value: (r: CsvRow) => r.from },
  { header: 'to', value: (r: CsvRow) => r.to },
];
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** The XLSX's number formats: litres, km and hours with their decimals as in the JSON, counts whole. */
const XLSX_FORMATS: Partial<Record<keyof CsvRow, string>> = {
  distanceKm: '#,##0.000',
  fuelUsedLitres: '#,##0.00',
  litresPer100Km: '#,##0.00',
  idleLitres: '#,##0.00',
  ratedLitres: '#,##0.00',
  refuelCount: '#,##0',
  refuelledLitres: '#,##0.00',
  drainCount: '#,##0',
  drainedLitres: '#,##0.00',
  engineHours: '#,##0.000',
  idleHours: '#,##0.000',
  drivingHours: '#,##0.000',
  distanceOutsideHoursKm: '#,##0.000',
  tripCount: '#,##0',
};

/**
 * The report as a workbook (sheet "Fuel report"): a title and the period in local time,
 * a header row with the JSON's field names, one row per vehicle with its figures as
 * numbers (as rounded in the JSON), and the totals row last. Text a spreadsheet would take
 * for a formula is neutralised.
 */
async function fuelReportXlsx(rows: CsvRow[], total: CsvRow, period: { from: string; to: string }, generatedAt: string) {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Armada';
  const ws = wb.addWorksheet('Fuel report');
  ws.addRow([`Fleet fuel report ${period.from} to ${period.to}`]).font = { bold: true, size: 14 };
  ws.addRow([`Generated ${generatedAt}`]);
  ws.addRow([]);
  ws.addRow(columns.map((c) => c.header)).font = { bold: true };
  const add = (r: CsvRow) => {
    const row = ws.addRow(columns.map((c) => (typeof c.value(r) === 'string' ? neutralise(c.value(r) as string) : c.value(r))));
    columns.forEach((c, i) => {
      const fmt = XLSX_FORMATS[c.header as keyof CsvRow];
      if (fmt) row.getCell(i + 1).numFmt = fmt;
    });
    return row;
  };
  for (const r of rows) add(r);
  add(total).font = { bold: true };
  ws.views = [{ state: 'frozen', ySplit: 4 }];
  ws.columns.forEach((col, i) => (col.width = i < 2 ? 38 : 16));
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const SUMMED = [
  'distanceKm',
  'fuelUsedLitres',
  'idleLitres',
  'ratedLitres',
  'refuelCount',
  'refuelledLitres',
  'drainCount',
  'drainedLitres',
  'engineHours',
  'idleHours',
  'drivingHours',
  'distanceOutsideHoursKm',
  'tripCount',
] as const;

/** A time given as a plain date (2026-12-01) means that local day: from its start, or (for `to`) through its end. */
const timeOrDate = z.union([isoTime, z.iso.date()]);
function resolveLocal(tz: string, value: string | undefined, end: boolean): string | undefined {
  if (value === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  return new Date(dayStartMs(tz, end ? addDays(value, 1) : value)).toISOString();
}

const MAX_DAYS = 731;

export function reportRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { vehicles, departments } = deps.repos;
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
            'Whole report days come from the daily rollups; only partial days at the edges are computed from readings. Default period: the current month (REPORT_TZ) up to now. A department-limited key sees its own department. ' +
            'A download with `format=csv` (text/csv, or `Accept: text/csv`) or `format=xlsx` ' +
            '(application/vnd.openxmlformats-officedocument.spreadsheetml.sheet): the same rows with the department name and the period in local time, and a totals row last.',
          querystring: z.object({
            from: timeOrDate
              .optional()
              .describe(
                'ISO 8601 with a zone, or a plain date (2026-12-01: from that local day). Default: the start of the current month in REPORT_TZ',
              ),
            to: timeOrDate
              .optional()
              .describe('ISO 8601 with a zone (exclusive), or a plain date (2026-12-31: through the end of that local day). Default: now'),
            departmentId: z.uuid().optional(),
            format: z
              .enum(['json', 'csv', 'xlsx'])
              .optional()
              .describe('json (default), csv (RFC 4180; or send `Accept: text/csv`) or xlsx (a workbook)'),
          }),
          response: {
            200: {
              description: 'The report: JSON, or with `format` a CSV or an XLSX download',
              content: {
                'application/json': { schema: z.array(row) },
                'text/csv': {
                  schema: z.string().describe('RFC 4180: the JSON fields, departmentName, from, to; a TOTAL row last'),
                },
                [XLSX_TYPE]: {
                  schema: z
                    .string()
                    .describe(
                      'A workbook, sheet "Fuel report": a title and the period, then a header row with the JSON field names (and departmentName, from, to), one row per vehicle with its figures as numbers, a TOTAL row last',
                    ),
                },
              },
            },
            400: errorResponse,
            404: errorResponse,
          },
        },
      },
      async (request, reply) => {
        const nowMs = deps.now().getTime();
        const monthStart = (toMs: number) => dayStartMs(tz, `${localDayOf(tz, toMs).slice(0, 7)}-01`);
        const period = { from: resolveLocal(tz, request.query.from, false), to: resolveLocal(tz, request.query.to, true) };
        const { fromMs, toMs } = resolvePeriod(period, nowMs, { fromMs: (t) => Math.min(monthStart(t), t - 1), maxDays: MAX_DAYS });
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
        const xlsx = request.query.format === 'xlsx';
        if (!xlsx && !wantsCsv(request)) return rows;
        const names = new Map((await departments.list(request.auth)).map((d) => [d.id, d.name]));
        const from = localStamp(fromMs, tz);
        const to = localStamp(toMs, tz);
        const csvRows: CsvRow[] = rows.map((r) => ({ ...r, departmentName: names.get(r.departmentId) ?? '', from, to }));
        // The totals row: sums of the rows as shown (rounded), so a spreadsheet adds up.
        const total = {
          vehicleId: 'TOTAL',
          plateNumber: `${rows.length} vehicles`,
          departmentId: '',
          kind: '',
          fuelType: '',
          fuelSource: '',
          litresPer100Km: null,
          departmentName: '',
          from,
          to,
        } as unknown as CsvRow;
        for (const k of SUMMED)
          (total as Record<string, unknown>)[k] = round(
            rows.reduce((sum, r) => sum + r[k], 0),
            3,
          );
        total.litresPer100Km = total.distanceKm >= 1 ? round((100 * total.fuelUsedLitres) / total.distanceKm, 2) : null;
        // Named by the local dates it covers (the last day the period reaches into).
        const name = `fuel-report-${localDate(fromMs, tz)}-to-${localDate(Math.max(fromMs, toMs - 1), tz)}`;
        if (!xlsx) return sendCsv(reply, `${name}.csv`, toCsv(columns, [...csvRows, total]));
        // A Buffer goes out as it is (Fastify does not serialise it).
        return (reply as FastifyReply)
          .header('content-type', XLSX_TYPE)
          .header('content-disposition', `attachment; filename="${name}.xlsx"`)
          .send(await fuelReportXlsx(csvRows, total, { from, to }, localStamp(nowMs, tz)));
      },
    );
  };
}
