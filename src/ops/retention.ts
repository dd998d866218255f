/**
 * Telemetry retention: drops whole month partitions of raw telemetry older than
 * TELEMETRY_RETENTION_MONTHS, oldest first, and only months whose reports are final:
 *
 *  - every report month (REPORT_TZ) the partition touches is closed (month_closings), so
 *    its savings and reconciliation are answered from the snapshot signed at closing;
 *  - every receipt in those report months has a settled verdict (purchase_verdicts with
 *    a status other than `pending`; a receipt with no verdict at all is not settled);
 *  - the rollup job has finished with the month: no late-data marks wait on its days or
 *    their neighbours, and each of its vehicles was computed after its last reading of the
 *    month plus the context a day's edges need, so its stored days hold every reading.
 *
 * The first month that fails a check stops the run (the horizon only moves forward, and
 * months are dropped in order). Each drop records the month and the new ingest horizon
 * in telemetry_dropped_months in the same transaction (src/repositories/retention.ts).
 * Rollups, verdicts, the ledger and the audit log are never touched. docs/operations.md.
 */
import type { Logger } from 'pino';
import { contextMs } from '../analytics/service.js';
import type { TripSettings } from '../domain/trips.js';
import { addDays, localDayOf } from '../domain/report-time.js';
import { keptFromMs, newestDroppableMonth, reportMonthsOf, utcMonthRangeMs, type UtcMonth } from '../domain/retention.js';
import { monthRangeMs } from '../finance/reconciliation.js';
import type { AnalyticsRepository } from '../repositories/analytics/index.js';
import type { ClosingRepository } from '../repositories/finance/closings.js';
import type { PurchaseRepository } from '../repositories/finance/purchases.js';
import type { VerdictRepository } from '../repositories/finance/verdicts.js';
import type { RetentionRepository, TelemetryPartition } from '../repositories/retention.js';

export interface RetentionDeps {
  retention: RetentionRepository;
  closings: Pick<ClosingRepository, 'get'>;
  purchases: Pick<PurchaseRepository, 'effectivePurchases'>;
  verdicts: Pick<VerdictRepository, 'get'>;
  analytics: Pick<AnalyticsRepository, 'states' | 'lateMarks'>;
  reportTz: string;
  trips: TripSettings;
  /** Months kept before the current one (TELEMETRY_RETENTION_MONTHS); 0: keep everything. */
  keepMonths: number;
}

export type MonthDecision =
  | { month: UtcMonth; partition: string; approxRows: number; bytes: number; action: 'drop'; keptFromMs: number; reason: string }
  | { month: UtcMonth; partition: string; approxRows: number; bytes: number; action: 'refuse' | 'keep'; reason: string };

export interface RetentionRun {
  keepMonths: number;
  /** The newest month old enough to drop; undefined when retention is off. */
  newestDroppable: UtcMonth | undefined;
  decisions: MonthDecision[];
  /** Months actually dropped (empty on a dry run). */
  dropped: UtcMonth[];
}

export function createRetention(deps: RetentionDeps) {
  const tz = deps.reportTz;
  const ctx = contextMs(deps.trips);

  /** Why the month may not be dropped yet, or null when it may. */
  async function objection(p: TelemetryPartition): Promise<string | null> {
    const { startMs, endMs } = utcMonthRangeMs(p.month);
    const reportMonths = reportMonthsOf(tz, p.month);
    for (const m of reportMonths) {
      if (!(await deps.closings.get(m)))
        return `report month ${m} (${tz}) is not closed: close it first (POST /api/v1/month-closings), its reports then stay as signed`;
    }
    // Receipts of the report months it touches: each with a settled verdict.
    const purchases = await deps.purchases.effectivePurchases({
      fromMs: monthRangeMs(tz, reportMonths[0]!).fromMs,
      toMs: monthRangeMs(tz, reportMonths[reportMonths.length - 1]!).toMs,
    });
    if (purchases.length > 0) {
      const verdicts = await deps.verdicts.get(purchases.map((x) => x.id));
      const unsettled = purchases.filter((x) => {
        const v = verdicts.get(x.id);
        return !v || v.status === 'pending';
      });
      if (unsettled.length > 0)
        return (
          `${unsettled.length} receipt(s) in ${reportMonths.join(', ')} have no settled verdict (for example ${unsettled[0]!.id}): ` +
          'the settle job judges receipts of the last 92 days; older ones stay pending until judged'
        );
    }
    // The rollups of its days are final.
    const inMonth = await deps.retention.vehiclesIn(p.month);
    if (inMonth.length > 0) {
      const vehicles = inMonth.map((v) => v.vehicleId);
      const firstDay = localDayOf(tz, startMs);
      const lastDay = localDayOf(tz, endMs - 1);
      const marks = await deps.analytics.lateMarks(vehicles, addDays(firstDay, -1), addDays(lastDay, 1));
      if (marks.length > 0)
        return `${marks.length} day(s) with late readings wait for the rollup job (for example ${marks[0]!.day}): let it run first`;
      // Computed with the hour of context after each vehicle's last reading of the month in hand.
      const states = await deps.analytics.states(vehicles);
      const behind = inMonth.filter((v) => (states.get(v.vehicleId)?.computedAtMs ?? 0) < v.lastFixMs + ctx.afterMs);
      if (behind.length > 0)
        return `the rollup job has not finished ${behind.length} vehicle(s) of this month (for example ${behind[0]!.vehicleId}): let it run first`;
    }
    return null;
  }

  return {
    /** What a run would do (dryRun) or does: drops the old months that are final, oldest first. */
    async run(nowMs: number, options: { dryRun: boolean; logger?: Logger }): Promise<RetentionRun> {
      const newest = newestDroppableMonth(nowMs, deps.keepMonths);
      const result: RetentionRun = { keepMonths: deps.keepMonths, newestDroppable: newest, decisions: [], dropped: [] };
      let stopped: string | undefined;
      for (const p of await deps.retention.partitions()) {
        const base = { month: p.month, partition: p.name, approxRows: p.approxRows, bytes: p.bytes };
        if (newest === undefined || p.month > newest) {
          const reason =
            deps.keepMonths === 0 ? 'TELEMETRY_RETENTION_MONTHS is 0: everything is kept' : `within the ${deps.keepMonths} months kept`;
          result.decisions.push({ ...base, action: 'keep', reason });
          continue;
        }
        if (stopped) {
          result.decisions.push({ ...base, action: 'refuse', reason: `an older month is refused (${stopped}); months go oldest first` });
          continue;
        }
        const why = await objection(p);
        if (why) {
          stopped = p.month;
          result.decisions.push({ ...base, action: 'refuse', reason: why });
          continue;
        }
        const horizon = keptFromMs(tz, utcMonthRangeMs(p.month).endMs, ctx.beforeMs);
        result.decisions.push({
          ...base,
          action: 'drop',
          keptFromMs: horizon,
          reason: `older than the ${deps.keepMonths} months kept; closed (${reportMonthsOf(tz, p.month).join(', ')}), verdicts settled, rollups final`,
        });
        if (!options.dryRun) {
          if (await deps.retention.drop(p, horizon)) result.dropped.push(p.month);
          options.logger?.info(
            { month: p.month, partition: p.name, approxRows: p.approxRows, bytes: p.bytes, keptFrom: new Date(horizon).toISOString() },
            'telemetry month dropped (retention)',
          );
        }
      }
      return result;
    },
  };
}
export type Retention = ReturnType<typeof createRetention>;

/** The run as an operator reads it. */
export function describeRun(run: RetentionRun, dryRun: boolean): string {
  const lines: string[] = [];
  lines.push(
    run.keepMonths === 0
      ? 'retention: TELEMETRY_RETENTION_MONTHS=0, all raw telemetry is kept'
      : `retention: ${run.keepMonths} months kept before the current one; months up to ${run.newestDroppable} may go${dryRun ? ' (dry run: nothing is dropped)' : ''}`,
  );
  for (const d of run.decisions) {
    const size = `${Math.max(0, Math.round(d.approxRows))} rows (estimate), ${(d.bytes / 1048576).toFixed(1)} MiB`;
    const verb = d.action === 'drop' ? (dryRun ? 'would drop' : 'dropped') : d.action === 'refuse' ? 'REFUSED' : 'kept';
    const horizon = d.action === 'drop' ? `; late readings before ${new Date(d.keptFromMs).toISOString()} go to quarantine` : '';
    lines.push(`  ${d.month}  ${d.partition}  ${verb}: ${d.reason} [${size}]${horizon}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The daily run where the API runs (like the rollup and settle jobs); only when retention is on. */
export function startRetentionJob(
  retention: Retention,
  options: { keepMonths: number; intervalMs: number; logger: Logger; now: () => Date },
): { runOnce(): Promise<RetentionRun>; stop(): Promise<void> } {
  let running: Promise<RetentionRun> | undefined;
  const runOnce = async (): Promise<RetentionRun> => {
    while (running) await running.catch(() => undefined);
    running = retention.run(options.now().getTime(), { dryRun: false, logger: options.logger });
    try {
      const run = await running;
      for (const d of run.decisions)
        if (d.action === 'refuse') options.logger.warn({ month: d.month, reason: d.reason }, 'telemetry month kept past retention');
      return run;
    } finally {
      running = undefined;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const schedule = (delayMs: number) => {
    timer = setTimeout(() => {
      runOnce()
        .catch((err: Error) => options.logger.error({ err: err.message }, 'retention run failed; tried again at the next run'))
        .finally(() => schedule(options.intervalMs));
    }, delayMs);
    timer.unref();
  };
  // A minute after start, then every interval: a process restarted daily still runs it.
  if (options.keepMonths > 0) schedule(Math.min(60_000, options.intervalMs));
  return {
    runOnce,
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
