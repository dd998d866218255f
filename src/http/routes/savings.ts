/** GET /reports/savings: baseline (allocation × price) against what was bought and used, by vehicle, department and in total. */
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { addRow, emptySums, type SavingsRow } from '../../domain/finance/savings.js';
import { localDayOf } from '../../domain/report-time.js';
import { localDate, savingsCsv, savingsXlsx } from '../../finance/exports.js';
import { monthRangeMs } from '../../finance/reconciliation.js';
import { rowFromView, rowView, yearRows, type DepartmentView, type MonthSavings, type SavingsRowView } from '../../finance/savings.js';
import { BadRequestError } from '../../errors.js';
import type { AppDeps } from '../app.js';
import { assertDepartmentVisible } from '../auth.js';
import { sendCsv } from '../csv.js';
import { errorResponse } from '../schemas.js';
import { monthParam, previousMonth } from './reconciliation.js';

const litres = z.number().describe('Litres, three decimals, rounded half up once per vehicle-month');
const idr = z.number().int().describe('Whole rupiah');
const sums = {
  vehicles: z.number().int(),
  baselineLitres: litres,
  baselineIdr: idr,
  purchasedLitres: litres,
  purchasedIdr: idr,
  usedLitres: litres,
  ratedLitres: litres,
  unexplainedLitres: litres.describe('purchased − used − (tank level at the end − at the start)'),
  savingsIdr: idr.describe('baselineIdr − purchasedIdr'),
};
const vehicleRow = z.object({
  vehicleId: z.uuid(),
  plateNumber: z.string(),
  departmentId: z.uuid(),
  departmentName: z.string(),
  baselineLitres: litres.describe('The allocation in force (the current month: prorated by elapsed days)'),
  baselineIdr: idr.describe('Allocation × the price in force, a mid-month price change counted by day'),
  purchasedLitres: litres,
  purchasedIdr: idr,
  usedLitres: litres,
  usedSource: z.enum(['counter', 'sensor', 'rated', 'none']),
  ratedLitres: litres,
  unexplainedLitres: litres,
  savingsIdr: idr,
  flags: z.array(z.string()).describe('no_price: no price in force on some day; no_level: no tank level to take the level change from'),
});
const departmentRow = z.object({
  departmentId: z.uuid(),
  departmentName: z.string(),
  ...sums,
  budgetIdr: idr.nullable().describe("The department's fuel budget for the year"),
  spentIdr: idr.describe('Bought in the year up to the end of the period'),
  budgetLeftIdr: idr.nullable(),
});
const totals = z.object(sums);
const adjustment = z.object({
  month: z.string(),
  vehicleId: z.uuid(),
  plateNumber: z.string(),
  purchasedLitres: litres,
  purchasedIdr: idr,
  usedLitres: litres,
  unexplainedLitres: litres,
  savingsIdr: idr,
});
const monthReport = z.object({
  month: z.string(),
  partial: z.boolean().describe('The current month: the baseline counts the elapsed days'),
  closed: z.boolean().describe('A closed month: its report as signed'),
  vehicles: z.array(vehicleRow),
  departments: z.array(departmentRow),
  totals,
  adjustments: z
    .array(adjustment)
    .describe('What changed in the closed month before this one since it was closed (receipts or readings that came later)'),
});
const yearReport = z.object({
  year: z.number().int(),
  months: z.array(z.object({ month: z.string(), partial: z.boolean(), closed: z.boolean(), totals })),
  vehicles: z.array(vehicleRow),
  departments: z.array(departmentRow),
  totals,
});

function totalsOf(rows: readonly SavingsRow[]) {
  const s = rows.reduce((acc, r) => addRow(acc, r), emptySums());
  const v = rowView({ ...rows[0]!, ...s, usedSource: 'none', flags: [] } as SavingsRow);
  return {
    vehicles: s.vehicles,
    baselineLitres: v.baselineLitres,
    baselineIdr: v.baselineIdr,
    purchasedLitres: v.purchasedLitres,
    purchasedIdr: v.purchasedIdr,
    usedLitres: v.usedLitres,
    ratedLitres: v.ratedLitres,
    unexplainedLitres: v.unexplainedLitres,
    savingsIdr: v.savingsIdr,
  };
}
const emptyTotals = {
  vehicles: 0,
  baselineLitres: 0,
  baselineIdr: 0,
  purchasedLitres: 0,
  purchasedIdr: 0,
  usedLitres: 0,
  ratedLitres: 0,
  unexplainedLitres: 0,
  savingsIdr: 0,
};

export function savingsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { vehicles, departments, closings } = deps.repos;
  const { savings } = deps.services;
  const tz = deps.services.analytics.settings.reportTz;
  return async (app) => {
    app.get(
      '/reports/savings',
      {
        schema: {
          tags: ['finance'],
          summary: 'Fuel savings: the baseline (allocation × price) against what was bought and used',
          description:
            'By vehicle, by department (with its yearly budget and spend) and in total, for a month (`month`) or a year (`year`: ' +
            'its months and the year). Rupiah are whole; each vehicle-month is rounded half up once and totals are sums of rounded rows. ' +
            'A closed month answers its report as signed. `format=csv` (text/csv) or `format=xlsx` ' +
            '(application/vnd.openxmlformats-officedocument.spreadsheetml.sheet) for a download with department names, ' +
            'local (WITA) dates and a totals row. Every role reads; a department key sees its department.',
          querystring: z.object({
            month: monthParam.optional().describe('YYYY-MM in REPORT_TZ (without month or year: the current month)'),
            year: z.coerce.number().int().min(2000).max(2100).optional().describe('A calendar year: its twelve months and the year'),
            departmentId: z.uuid().optional(),
            format: z.enum(['json', 'csv', 'xlsx']).optional().describe('json (default), csv or xlsx'),
          }),
          response: {
            200: {
              description: 'The report: JSON, or with `format` a CSV or an XLSX download',
              content: {
                'application/json': { schema: z.union([monthReport, yearReport]) },
                'text/csv': {
                  schema: z.string().describe('RFC 4180: period, plateNumber, departmentName, the figures, flags; a TOTAL row last'),
                },
                'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
                  schema: z
                    .string()
                    .describe(
                      'A workbook: sheet Vehicles (a totals row last; rupiah as numbers formatted "Rp" #,##0) and sheet Departments',
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
        const currentMonth = localDayOf(tz, nowMs).slice(0, 7);
        if (request.query.month !== undefined && request.query.year !== undefined)
          throw new BadRequestError('month or year: give one of them, not both (month=2026-03 or year=2026).');
        // Neither: the current month.
        const q =
          request.query.month === undefined && request.query.year === undefined ? { ...request.query, month: currentMonth } : request.query;
        if (q.departmentId) assertDepartmentVisible(request.auth, q.departmentId);
        const fleet = await vehicles.list(request.auth, q.departmentId ? { departmentId: q.departmentId } : {});
        const visible = new Set(fleet.map((v) => v.id));
        const names = new Map((await departments.list(request.auth)).map((d) => [d.id, d.name]));
        const ids = fleet.map((v) => v.id);
        const frozenRows = async (month: string): Promise<{ rows: SavingsRow[]; departments: DepartmentView[] } | null> => {
          const closed = await closings.get(month);
          if (!closed) return null;
          const snap = closed.snapshot.savings as MonthSavings;
          return {
            rows: snap.vehicles.filter((v) => visible.has(v.vehicleId)).map(rowFromView),
            departments: snap.departments.filter((d) => fleet.some((v) => v.departmentId === d.departmentId)),
          };
        };

        let body: z.infer<typeof monthReport> | z.infer<typeof yearReport>;
        let period: string;
        let partial: boolean;
        if (q.month) {
          period = q.month;
          const frozen = await frozenRows(q.month);
          if (frozen) {
            body = {
              month: q.month,
              partial: false,
              closed: true,
              vehicles: frozen.rows.map(rowView),
              departments: frozen.departments,
              totals: frozen.rows.length > 0 ? totalsOf(frozen.rows) : emptyTotals,
              adjustments: [],
            };
          } else {
            const open = await savings.month(fleet, q.month, names, nowMs);
            // What changed in the closed month before this one since it was signed.
            const prev = previousMonth(q.month);
            const prevFrozen = await frozenRows(prev);
            const adjustments: z.infer<typeof adjustment>[] = [];
            if (prevFrozen) {
              const now = (await savings.monthRows(fleet, [prev], names, nowMs)).get(prev)!;
              const signed = new Map(prevFrozen.rows.map((r) => [r.vehicleId, r]));
              for (const r of now) {
                const s = signed.get(r.vehicleId);
                const d = {
                  purchasedMl: r.purchasedMl - (s?.purchasedMl ?? 0n),
                  purchasedIdr: r.purchasedIdr - (s?.purchasedIdr ?? 0n),
                  usedMl: r.usedMl - (s?.usedMl ?? 0n),
                  unexplainedMl: r.unexplainedMl - (s?.unexplainedMl ?? 0n),
                  savingsIdr: r.savingsIdr - (s?.savingsIdr ?? 0n),
                };
                if (Object.values(d).some((x) => x !== 0n)) {
                  const v = rowView({ ...r, ...d, baselineMl: 0n, baselineIdr: 0n, ratedMl: 0n });
                  adjustments.push({
                    month: prev,
                    vehicleId: r.vehicleId,
                    plateNumber: r.plateNumber,
                    purchasedLitres: v.purchasedLitres,
                    purchasedIdr: v.purchasedIdr,
                    usedLitres: v.usedLitres,
                    unexplainedLitres: v.unexplainedLitres,
                    savingsIdr: v.savingsIdr,
                  });
                }
              }
            }
            body = { ...open, adjustments };
          }
          partial = body.partial;
        } else {
          const year = q.year!;
          period = String(year);
          const months = savings.monthsOfYear(year).filter((m) => m <= currentMonth);
          const frozen = new Map<string, SavingsRow[]>();
          for (const m of months) {
            const f = await frozenRows(m);
            if (f) frozen.set(m, f.rows);
          }
          const computed = await savings.monthRows(
            fleet,
            months.filter((m) => !frozen.has(m)),
            names,
            nowMs,
          );
          const perMonth = months.map((m) => ({ month: m, rows: frozen.get(m) ?? computed.get(m)! }));
          const rows = yearRows(perMonth.map((x) => x.rows));
          const yearEndMs = monthRangeMs(tz, `${year}-12`).toMs;
          const summary = await savings.summarise(rows, year, names, ids, Math.min(nowMs + 1, yearEndMs));
          partial = months.includes(currentMonth);
          body = {
            year,
            months: perMonth.map((x) => ({
              month: x.month,
              partial: x.month === currentMonth,
              closed: frozen.has(x.month),
              totals: x.rows.length > 0 ? totalsOf(x.rows) : emptyTotals,
            })),
            vehicles: rows.map(rowView),
            departments: summary.departments,
            totals: rows.length > 0 ? totalsOf(rows) : emptyTotals,
          };
        }
        if (q.format === 'csv' || q.format === 'xlsx') {
          const x = {
            period,
            partial,
            vehicles: body.vehicles as SavingsRowView[],
            departments: body.departments,
            totals: body.totals,
            generatedAtMs: nowMs,
            reportTz: tz,
          };
          const name = `savings-${period}${
            q.departmentId
              ? `-${
                  names
                    .get(q.departmentId)
                    ?.replace(/[^A-Za-z0-9]+/g, '_')
                    .slice(0, 30) ?? 'department'
                }`
              : ''
          }-${localDate(nowMs, tz)}`;
          if (q.format === 'csv') return sendCsv(reply, `${name}.csv`, savingsCsv(x));
          // A Buffer goes out as it is (Fastify does not serialise it).
          return (reply as FastifyReply)
            .header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
            .header('content-disposition', `attachment; filename="${name}.xlsx"`)
            .send(await savingsXlsx(x));
        }
        return body;
      },
    );
  };
}
