/**
 * Keeps the stored verdicts (purchase_verdicts) current and raises an alert for every
 * settled flag, once. Every run (FINANCE_SETTLE_INTERVAL_S, default 60 s):
 *  1. the purchases of the last HORIZON_DAYS that have no verdict, a pending one, or one
 *     settled before the analytics of their day (or a neighbour) were recomputed (late
 *     telemetry) are judged again, by whole vehicle-months (rated use counts from the
 *     month's start);
 *  2. each settled flag not yet alerted raises an alert of kind `receipt_<flag>` in the
 *     vehicle's department (src/repositories/alerts.ts), and is remembered as alerted.
 * A receipt posted before its telemetry, or telemetry days late: the verdict stays
 * pending until both are in, then settles as it would have in the other order.
 * Runs only where the API runs, like the rollup job; `now` is injectable for tests.
 */
import type { Logger } from 'pino';
import { receiptAlertKind, type FlagKind } from '../domain/finance/reconcile.js';
import { litresNumber } from '../domain/finance/money.js';
import { localDayOf } from '../domain/report-time.js';
import type { AlertRepository } from '../repositories/alerts.js';
import type { VerdictRepository } from '../repositories/finance/verdicts.js';
import { ALL_DEPARTMENTS } from '../repositories/scope.js';
import type { VehicleRepository } from '../repositories/vehicles.js';
import { monthRangeMs, type PurchaseReader, type Reconciliation } from './reconciliation.js';

/** Purchases older than this are no longer looked at by the job (their months are long reported). */
export const HORIZON_DAYS = 92;

export interface SettleJobDeps {
  reconciliation: Reconciliation;
  purchases: PurchaseReader;
  verdicts: VerdictRepository;
  alerts: Pick<AlertRepository, 'insertMany'>;
  vehicles: Pick<VehicleRepository, 'list'>;
  reportTz: string;
  logger: Logger;
  now?: () => Date;
  intervalS: number;
}

export interface SettleRunSummary {
  judged: number;
  settled: number;
  alerts: number;
}

export interface SettleJob {
  runOnce(): Promise<SettleRunSummary>;
  stop(): Promise<void>;
}

export function startSettleJob(deps: SettleJobDeps, options: { autoStart?: boolean } = {}): SettleJob {
  const now = deps.now ?? (() => new Date());
  const tz = deps.reportTz;
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  async function run(): Promise<SettleRunSummary> {
    const nowMs = now().getTime();
    const summary: SettleRunSummary = { judged: 0, settled: 0, alerts: 0 };
    const purchases = await deps.purchases.effectivePurchases({ fromMs: nowMs - HORIZON_DAYS * 86_400_000, toMs: nowMs + 1 });
    if (purchases.length === 0) return summary;
    const needing = await deps.verdicts.needingJudgement(
      purchases.map((p) => ({ id: p.id, vehicleId: p.vehicleId, day: localDayOf(tz, p.at.getTime()) })),
    );
    if (needing.size === 0) return summary;
    const fleet = new Map((await deps.vehicles.list(ALL_DEPARTMENTS)).map((v) => [v.id, v]));
    // month → vehicles with a purchase to judge in it
    const work = new Map<string, Set<string>>();
    for (const p of purchases) {
      if (!needing.has(p.id)) continue;
      const month = localDayOf(tz, p.at.getTime()).slice(0, 7);
      const set = work.get(month) ?? new Set();
      set.add(p.vehicleId);
      work.set(month, set);
    }
    for (const [month, vehicleIds] of work) {
      if (stopped) break;
      const vehicles = [...vehicleIds].map((id) => fleet.get(id)).filter((v) => v !== undefined);
      const { fromMs, toMs } = monthRangeMs(tz, month);
      const judged = await deps.reconciliation.judge(vehicles, fromMs, toMs, nowMs);
      const toSave = judged.purchases.filter((p) => needing.has(p.id));
      await deps.verdicts.save(
        toSave.map((p) => {
          const v = judged.verdicts.get(p.id)!;
          return {
            purchaseId: p.id,
            vehicleId: p.vehicleId,
            status: v.status,
            flags: v.flags,
            refuel: v.refuel
              ? { at: new Date(v.refuel.atMs).toISOString(), litres: v.refuel.litres, lat: v.refuel.lat, lon: v.refuel.lon }
              : null,
            judgedAtMs: nowMs,
          };
        }),
      );
      summary.judged += toSave.length;
      const stored = await deps.verdicts.get(toSave.map((p) => p.id));
      for (const p of toSave) {
        const v = judged.verdicts.get(p.id)!;
        if (v.status === 'pending') continue;
        summary.settled++;
        const already = new Set(stored.get(p.id)?.alertedKinds ?? []);
        const fresh = v.flags.filter((f) => !already.has(f.kind));
        if (fresh.length === 0) continue;
        const vehicle = fleet.get(p.vehicleId)!;
        await deps.alerts.insertMany(
          fresh.map((f) => ({
            kind: receiptAlertKind(f.kind as FlagKind),
            vehicleId: p.vehicleId,
            departmentId: vehicle.departmentId,
            atMs: p.at.getTime(),
            lat: p.lat,
            lon: p.lon,
            message: `${vehicle.plateNumber}: receipt ${p.receiptNo ?? p.id} — ${f.detail}`,
            details: {
              purchaseId: p.id,
              flag: f.kind,
              detail: f.detail,
              receiptNo: p.receiptNo,
              litres: litresNumber(p.litresMl),
              amountIdr: Number(p.amountIdr),
            },
          })),
        );
        await deps.verdicts.markAlerted(
          p.id,
          fresh.map((f) => f.kind),
        );
        summary.alerts += fresh.length;
      }
    }
    if (summary.judged > 0) deps.logger.debug({ ...summary }, 'settle run');
    return summary;
  }

  function enqueue(): Promise<SettleRunSummary> {
    const next = chain.then(async () => (await deps.verdicts.exclusively(run)) ?? { judged: 0, settled: 0, alerts: 0 });
    chain = next.catch(() => undefined);
    return next;
  }

  function schedule(delayMs: number) {
    if (stopped) return;
    timer = setTimeout(async () => {
      timer = null;
      try {
        await enqueue();
      } catch (err) {
        deps.logger.error({ err }, 'settle run failed; retried on the next run');
      }
      schedule(deps.intervalS * 1000);
    }, delayMs);
    timer.unref?.();
  }
  if (options.autoStart !== false) schedule(Math.min(deps.intervalS * 1000, 5000));

  return {
    runOnce: enqueue,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await chain;
    },
  };
}
