/** GET /reconciliation: each purchase of a month against the tank and the vehicle's position. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { flagKinds } from '../../domain/finance/reconcile.js';
import { verdictStatuses } from '../../db/schema.js';
import { localDayOf } from '../../domain/report-time.js';
import type { ReconciliationReport } from '../../finance/reconciliation.js';
import type { AppDeps } from '../app.js';
import { assertDepartmentVisible } from '../auth.js';
import { errorResponse } from '../schemas.js';

export const monthParam = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month like 2026-03')
  .describe('A calendar month in REPORT_TZ, YYYY-MM');

const flag = z.object({ kind: z.enum(flagKinds), detail: z.string() });
const purchaseItem = z.object({
  purchaseId: z.uuid(),
  vehicleId: z.uuid(),
  plateNumber: z.string(),
  at: z.string(),
  litres: z.number(),
  amountIdr: z.number().int().describe('Whole rupiah'),
  status: z.enum(verdictStatuses).describe('pending until the refuel window has passed and the analytics of its days settled'),
  flags: z.array(flag),
  refuel: z
    .object({ at: z.string(), litres: z.number(), lat: z.number(), lon: z.number() })
    .nullable()
    .describe('The detected refuel matched to it'),
});

const report = z.object({
  month: z.string(),
  closed: z.boolean().describe('The month is closed: this is the report as signed at closing'),
  purchases: z.array(purchaseItem),
  refuelsWithoutReceipt: z.array(z.object({ vehicleId: z.uuid(), at: z.string(), litres: z.number(), lat: z.number(), lon: z.number() })),
  adjustments: z
    .object({ month: z.string(), purchases: z.array(purchaseItem) })
    .nullable()
    .describe('Receipts for the closed month before this one that were entered after it was closed'),
});

/** A report narrowed to one department (a closing's snapshot holds them all). */
export function reconciliationFor(r: ReconciliationReport, departmentId: string | null): ReconciliationReport {
  if (!departmentId) return r;
  return {
    ...r,
    purchases: r.purchases.filter((p) => p.departmentId === departmentId),
    refuelsWithoutReceipt: r.refuelsWithoutReceipt.filter((x) => x.departmentId === departmentId),
  };
}

export const previousMonth = (month: string): string => {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
};

export function reconciliationRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { vehicles, closings } = deps.repos;
  const { reconciliation } = deps.services;
  return async (app) => {
    app.get(
      '/reconciliation',
      {
        schema: {
          tags: ['finance'],
          summary: "A month's purchases judged against the tank sensor and the vehicle's position",
          description:
            'Each purchase is matched one-to-one to a detected refuel of its vehicle within FINANCE_MATCH_WINDOW_S (nearest first) ' +
            'and flagged (see docs/finance-reports.md). ' +
            'A closed month answers its report as signed. Every role reads; a department key sees its department.',
          querystring: z.object({
            month: monthParam.optional().describe('YYYY-MM in REPORT_TZ. Default: the current month'),
            departmentId: z.uuid().optional(),
          }),
          response: { 200: report, 400: errorResponse, 404: errorResponse },
        },
      },
      async (request) => {
        const { departmentId } = request.query;
        if (departmentId) assertDepartmentVisible(request.auth, departmentId);
        const month = request.query.month ?? localDayOf(deps.services.analytics.settings.reportTz, deps.now().getTime()).slice(0, 7);
        const scope = departmentId ?? request.auth.departmentId;
        const closed = await closings.get(month);
        if (closed)
          return { ...reconciliationFor(closed.snapshot.reconciliation as ReconciliationReport, scope), closed: true, adjustments: null };
        const fleet = await vehicles.list(request.auth, departmentId ? { departmentId } : {});
        const nowMs = deps.now().getTime();
        const open = await reconciliation.monthReport(fleet, month, nowMs);
        // Receipts for the closed month before this one that came after it was signed.
        const prev = previousMonth(month);
        const prevClosed = await closings.get(prev);
        let adjustments: { month: string; purchases: ReconciliationReport['purchases'] } | null = null;
        if (prevClosed) {
          const signed = new Set((prevClosed.snapshot.reconciliation as ReconciliationReport).purchases.map((p) => p.purchaseId));
          const now = await reconciliation.monthReport(fleet, prev, nowMs);
          adjustments = { month: prev, purchases: now.purchases.filter((p) => !signed.has(p.purchaseId)) };
        }
        return { ...open, closed: false, adjustments };
      },
    );
  };
}
