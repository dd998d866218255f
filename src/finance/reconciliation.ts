/**
 * The reconciliation service: gathers each purchase's evidence (refuels, levels, readings
 * near it, the price in force, its voucher) and has the pure judge decide
 * (src/domain/finance/reconcile.ts). Used by the API (live answers) and by the settle job
 * (stored verdicts and their alerts), so both judge alike.
 *
 * A verdict is pending until the refuel window has passed, the analytics of the days it
 * touches are final (the rollup job computed them with an hour of the next day in hand
 * and no late readings wait for them) and the vehicle has been heard from since (its
 * buffered readings are in); or, failing that, until FINANCE_TELEMETRY_WAIT_H has passed
 * since the purchase and since its receipt was recorded.
 */
import { contextMs } from '../analytics/service.js';
import type { AnalyticsSettings } from '../analytics/settings.js';
import {
  reconcileVehicle,
  type PurchaseEvidence,
  type PurchaseFacts,
  type RefuelFacts,
  type Verdict,
} from '../domain/finance/reconcile.js';
import { litresNumber, rupiahNumber } from '../domain/finance/money.js';
import { priceInForce } from '../domain/finance/savings.js';
import { voucherUse, type VoucherFactsRow, type VoucherPurchase } from '../domain/finance/vouchers.js';
import { refuelThresholdLitres } from '../domain/fuel/index.js';
import { addDays, dayRangeMs, localDayOf, type LocalDay } from '../domain/report-time.js';
import type { AnalyticsRepository } from '../repositories/analytics/index.js';
import type { EvidenceRepository, StoredRefuel } from '../repositories/finance/evidence.js';
import type { EffectivePurchase } from '../repositories/finance/purchases.js';
import type { FinanceReconSettings } from './settings.js';

export interface PurchaseReader {
  effectivePurchases(filter: {
    vehicleIds?: readonly string[];
    departmentId?: string;
    fromMs: number;
    toMs: number;
  }): Promise<EffectivePurchase[]>;
}

export interface VoucherLookup {
  byCodes(codes: readonly string[]): Promise<VoucherFactsRow[]>;
}

export interface ReconVehicle {
  id: string;
  plateNumber: string;
  departmentId: string;
  fuelType: string;
  tankCapacityLitres: number;
}

export interface JudgedPeriod {
  /** Purchases in the period, by time. */
  purchases: EffectivePurchase[];
  verdicts: Map<string, Verdict>;
  /** Refuels in the period no purchase claimed. */
  unmatchedRefuels: StoredRefuel[];
}

export interface ReconciliationDeps {
  purchases: PurchaseReader;
  evidence: EvidenceRepository;
  analytics: Pick<AnalyticsRepository, 'states' | 'lateMarks'>;
  vouchers: VoucherLookup;
}

/** A local month 'YYYY-MM' as [startMs, endMs) in the report time zone. */
export function monthRangeMs(tz: string, month: string): { fromMs: number; toMs: number } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
  return { fromMs: dayRangeMs(tz, `${month}-01`).startMs, toMs: dayRangeMs(tz, `${next}-01`).startMs };
}

const toVoucherPurchase = (p: EffectivePurchase): VoucherPurchase => ({
  id: p.id,
  seq: p.seq,
  vehicleId: p.vehicleId,
  atMs: p.at.getTime(),
  voucherCode: p.voucherCode,
});

export function createReconciliation(deps: ReconciliationDeps, settings: FinanceReconSettings, analytics: AnalyticsSettings) {
  const tz = analytics.reportTz;
  const windowMs = settings.matchWindowS * 1000;
  const afterMs = contextMs(analytics.trips).afterMs;

  /** Judges every purchase of these vehicles in [fromMs, toMs) (whole local months: rated use counts from the month's start). */
  async function judge(vehicles: readonly ReconVehicle[], fromMs: number, toMs: number, nowMs: number): Promise<JudgedPeriod> {
    const ids = vehicles.map((v) => v.id);
    if (ids.length === 0) return { purchases: [], verdicts: new Map(), unmatchedRefuels: [] };
    // Purchases and refuels a window beyond the period take part in the matching, so a fill
    // at a month's edge is claimed by its receipt whichever month it falls in.
    const extFrom = fromMs - windowMs;
    const extTo = toMs + windowMs;
    const firstDay = addDays(localDayOf(tz, extFrom - windowMs), -1);
    const lastDay = addDays(localDayOf(tz, extTo), 1);
    const [purchases, refuels, days, prices, states, marks] = await Promise.all([
      deps.purchases.effectivePurchases({ vehicleIds: ids, fromMs: extFrom, toMs: extTo }),
      deps.evidence.refuels(ids, extFrom - windowMs, extTo + windowMs),
      deps.evidence.days(ids, firstDay, lastDay),
      deps.evidence.prices(),
      deps.analytics.states(ids),
      deps.analytics.lateMarks(ids, firstDay, lastDay),
    ]);
    const near = await deps.evidence.readingsNear(
      purchases.map((p) => ({ id: p.id, vehicleId: p.vehicleId, atMs: p.at.getTime(), lat: p.lat, lon: p.lon })),
      settings.positionWindowS,
    );

    // Vouchers named on receipts, with every purchase naming them (to tell who redeemed one).
    const codes = [...new Set(purchases.map((p) => p.voucherCode).filter((c): c is string => c !== null))];
    const vouchers = new Map((codes.length > 0 ? await deps.vouchers.byCodes(codes) : []).map((v) => [v.code, v]));
    let namingVoucher: VoucherPurchase[] = purchases.filter((p) => p.voucherCode !== null).map(toVoucherPurchase);
    if (vouchers.size > 0) {
      const vs = [...vouchers.values()];
      const from = Math.min(...vs.map((v) => v.createdAtMs));
      const to = Math.max(...vs.map((v) => v.expiresAtMs)) + 1;
      const others = await deps.purchases.effectivePurchases({
        vehicleIds: [...new Set(vs.map((v) => v.vehicleId))],
        fromMs: from,
        toMs: to,
      });
      const seen = new Set(namingVoucher.map((p) => p.id));
      namingVoucher = [...namingVoucher, ...others.filter((p) => p.voucherCode !== null && !seen.has(p.id)).map(toVoucherPurchase)];
    }

    const dayByVehicle = new Map<string, Map<LocalDay, (typeof days)[number]>>();
    for (const d of days) {
      let m = dayByVehicle.get(d.vehicleId);
      if (!m) dayByVehicle.set(d.vehicleId, (m = new Map()));
      m.set(d.day, d);
    }
    const late = new Set(marks.map((m) => `${m.vehicleId}|${m.day}`));

    // The wait for telemetry counts from when the receipt was recorded too: a receipt entered
    // (or imported) days after the purchase still gives the vehicle's readings time to come
    // and the rollup job time to compute their days, before its flags raise alerts.
    const isSettled = (vehicleId: string, atMs: number, recordedAtMs: number): boolean => {
      if (nowMs < atMs + windowMs) return false;
      if (nowMs >= Math.max(atMs, recordedAtMs) + settings.telemetryWaitS * 1000) return true;
      const state = states.get(vehicleId);
      if (!state || state.seenAtMs === null || state.seenAtMs < atMs + windowMs) return false;
      for (let d = localDayOf(tz, atMs - windowMs); d <= localDayOf(tz, atMs + windowMs); d = addDays(d, 1)) {
        if (state.computedAtMs < dayRangeMs(tz, d).endMs + afterMs) return false;
        for (const n of [addDays(d, -1), d, addDays(d, 1)]) if (late.has(`${vehicleId}|${n}`)) return false;
      }
      return true;
    };

    const verdicts = new Map<string, Verdict>();
    const unmatchedRefuels: StoredRefuel[] = [];
    const byVehicle = new Map<string, EffectivePurchase[]>();
    for (const p of purchases) {
      const list = byVehicle.get(p.vehicleId) ?? [];
      list.push(p);
      byVehicle.set(p.vehicleId, list);
    }
    const refuelsByVehicle = new Map<string, StoredRefuel[]>();
    for (const r of refuels) {
      const list = refuelsByVehicle.get(r.vehicleId) ?? [];
      list.push(r);
      refuelsByVehicle.set(r.vehicleId, list);
    }

    for (const vehicle of vehicles) {
      const mine = (byVehicle.get(vehicle.id) ?? []).sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : 1));
      const vehicleRefuels: RefuelFacts[] = refuelsByVehicle.get(vehicle.id) ?? [];
      const dayMap = dayByVehicle.get(vehicle.id) ?? new Map();
      const evidence = new Map<string, PurchaseEvidence>();
      const boughtInMonth = new Map<string, bigint>();
      for (const p of mine) {
        const atMs = p.at.getTime();
        const day = localDayOf(tz, atMs);
        const month = day.slice(0, 7);
        const hasLevel = [addDays(day, -1), day, addDays(day, 1)].some((d) => dayMap.get(d)?.hasLevel === true);
        let rated = 0;
        for (const d of dayMap.values()) if (d.day.startsWith(month) && d.day <= day) rated += d.ratedLitres;
        const before = boughtInMonth.get(month) ?? 0n;
        boughtInMonth.set(month, before + p.litresMl);
        evidence.set(p.id, {
          readings: near.get(p.id) ?? [],
          hasLevel,
          priceIdrPerLitre: priceInForce(prices, p.fuelType, day),
          ...(p.voucherCode !== null ? { voucher: voucherUse(vouchers.get(p.voucherCode), toVoucherPurchase(p), namingVoucher) } : {}),
          ratedLitresToDate: rated,
          purchasedBeforeMl: before,
          settled: isSettled(vehicle.id, atMs, p.createdAt.getTime()),
          refuelThresholdLitres: refuelThresholdLitres(analytics.fuel, vehicle.tankCapacityLitres),
        });
      }
      const facts: PurchaseFacts[] = mine.map((p) => ({
        id: p.id,
        vehicleId: p.vehicleId,
        atMs: p.at.getTime(),
        litresMl: p.litresMl,
        amountIdr: p.amountIdr,
        fuelType: p.fuelType,
        lat: p.lat,
        lon: p.lon,
        receiptNo: p.receiptNo,
        odometerKm: p.odometerKm,
        voucherCode: p.voucherCode,
        entryFlags: p.entryFlags,
      }));
      const result = reconcileVehicle({ vehicle, purchases: facts, refuels: vehicleRefuels, evidence }, settings);
      for (const v of result.verdicts) verdicts.set(v.purchaseId, v);
      for (const r of result.unmatchedRefuels) if (r.atMs >= fromMs && r.atMs < toMs) unmatchedRefuels.push(r as StoredRefuel);
    }
    const inPeriod = purchases
      .filter((p) => p.at.getTime() >= fromMs && p.at.getTime() < toMs)
      .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : 1));
    const keep = new Set(inPeriod.map((p) => p.id));
    for (const id of [...verdicts.keys()]) if (!keep.has(id)) verdicts.delete(id);
    return { purchases: inPeriod, verdicts, unmatchedRefuels };
  }

  /** The month's reconciliation as the API answers it (and a closing stores it). */
  async function monthReport(vehicles: readonly ReconVehicle[], month: string, nowMs: number): Promise<ReconciliationReport> {
    const { fromMs, toMs } = monthRangeMs(tz, month);
    const judged = await judge(vehicles, fromMs, toMs, nowMs);
    const plates = new Map(vehicles.map((v) => [v.id, v]));
    return {
      month,
      purchases: judged.purchases.map((p) => {
        const v = judged.verdicts.get(p.id)!;
        return {
          purchaseId: p.id,
          vehicleId: p.vehicleId,
          plateNumber: plates.get(p.vehicleId)?.plateNumber ?? '',
          departmentId: plates.get(p.vehicleId)?.departmentId ?? p.departmentId,
          at: p.at.toISOString(),
          litres: litresNumber(p.litresMl),
          amountIdr: rupiahNumber(p.amountIdr),
          status: v.status,
          flags: v.flags,
          refuel: v.refuel
            ? { at: new Date(v.refuel.atMs).toISOString(), litres: round3(v.refuel.litres), lat: v.refuel.lat, lon: v.refuel.lon }
            : null,
        };
      }),
      refuelsWithoutReceipt: judged.unmatchedRefuels
        .sort((a, b) => a.atMs - b.atMs)
        .map((r) => ({
          vehicleId: r.vehicleId,
          departmentId: plates.get(r.vehicleId)?.departmentId ?? '',
          at: new Date(r.atMs).toISOString(),
          litres: round3(r.litres),
          lat: r.lat,
          lon: r.lon,
        })),
    };
  }

  return { settings, judge, monthReport };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export interface ReconciliationReport {
  month: string;
  purchases: Array<{
    purchaseId: string;
    vehicleId: string;
    plateNumber: string;
    departmentId: string;
    at: string;
    litres: number;
    amountIdr: number;
    status: Verdict['status'];
    flags: Verdict['flags'];
    refuel: { at: string; litres: number; lat: number; lon: number } | null;
  }>;
  refuelsWithoutReceipt: Array<{ vehicleId: string; departmentId: string; at: string; litres: number; lat: number; lon: number }>;
}
export type Reconciliation = ReturnType<typeof createReconciliation>;
