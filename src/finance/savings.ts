/**
 * The savings report: per vehicle-month, the baseline (allocation in force × price in
 * force, a mid-month price change counted by day; the current month prorated by elapsed
 * days), what was bought (the ledger, voids left out), what was used (the rollups' best
 * source) and what the litres leave unexplained; summed by department (with its yearly
 * budget and spend) and in total. Each vehicle-month is rounded once; sums are of rounded
 * rows. A closed month answers its snapshot (src/finance/closing.ts); what changed in it
 * since shows as adjustments in the month after.
 */
import { addRollupDays as addTallyDays, emptyTally, resolveTally } from '../domain/fuel/tally.js';
import { litresNumber, rupiahNumber } from '../domain/finance/money.js';
import {
  addRow,
  emptySums,
  priceInForce,
  savingsRow,
  weakestSource,
  type SavingsRow,
  type SavingsSums,
  type UsedSource,
} from '../domain/finance/savings.js';
import { addDays, localDayOf, nextMonth } from '../domain/report-time.js';
import type { EvidenceRepository } from '../repositories/finance/evidence.js';
import type { SavingsRepository } from '../repositories/finance/savings.js';
import { monthRangeMs } from './reconciliation.js';

export interface SavingsVehicle {
  id: string;
  plateNumber: string;
  departmentId: string;
  fuelType: string;
  monthlyAllocationLitres: number;
}

export interface SavingsDeps {
  evidence: Pick<EvidenceRepository, 'prices'>;
  savings: SavingsRepository;
}

/** A vehicle-month row as the API answers it. */
export interface SavingsRowView {
  vehicleId: string;
  plateNumber: string;
  departmentId: string;
  departmentName: string;
  baselineLitres: number;
  baselineIdr: number;
  purchasedLitres: number;
  purchasedIdr: number;
  usedLitres: number;
  usedSource: UsedSource;
  ratedLitres: number;
  unexplainedLitres: number;
  savingsIdr: number;
  flags: string[];
}

export interface SumsView {
  vehicles: number;
  baselineLitres: number;
  baselineIdr: number;
  purchasedLitres: number;
  purchasedIdr: number;
  usedLitres: number;
  ratedLitres: number;
  unexplainedLitres: number;
  savingsIdr: number;
}

export interface DepartmentView extends SumsView {
  departmentId: string;
  departmentName: string;
  /** The department's fuel budget for the year, and what it bought in the year up to the period's end. */
  budgetIdr: number | null;
  spentIdr: number;
  budgetLeftIdr: number | null;
}

export interface MonthSavings {
  month: string;
  partial: boolean;
  closed: boolean;
  vehicles: SavingsRowView[];
  departments: DepartmentView[];
  totals: SumsView;
}

const ML = 1000;
export const rowView = (r: SavingsRow): SavingsRowView => ({
  vehicleId: r.vehicleId,
  plateNumber: r.plateNumber,
  departmentId: r.departmentId,
  departmentName: r.departmentName,
  baselineLitres: litresNumber(r.baselineMl),
  baselineIdr: rupiahNumber(r.baselineIdr),
  purchasedLitres: litresNumber(r.purchasedMl),
  purchasedIdr: rupiahNumber(r.purchasedIdr),
  usedLitres: litresNumber(r.usedMl),
  usedSource: r.usedSource,
  ratedLitres: litresNumber(r.ratedMl),
  unexplainedLitres: litresNumber(r.unexplainedMl),
  savingsIdr: rupiahNumber(r.savingsIdr),
  flags: r.flags,
});
/** Back from a stored (snapshot) row: litres have three decimals, rupiah none, so nothing is lost. */
export const rowFromView = (v: SavingsRowView): SavingsRow => ({
  vehicleId: v.vehicleId,
  plateNumber: v.plateNumber,
  departmentId: v.departmentId,
  departmentName: v.departmentName,
  baselineMl: BigInt(Math.round(v.baselineLitres * ML)),
  baselineIdr: BigInt(v.baselineIdr),
  purchasedMl: BigInt(Math.round(v.purchasedLitres * ML)),
  purchasedIdr: BigInt(v.purchasedIdr),
  usedMl: BigInt(Math.round(v.usedLitres * ML)),
  usedSource: v.usedSource,
  ratedMl: BigInt(Math.round(v.ratedLitres * ML)),
  unexplainedMl: BigInt(Math.round(v.unexplainedLitres * ML)),
  savingsIdr: BigInt(v.savingsIdr),
  flags: v.flags,
});
const sumsView = (s: SavingsSums): SumsView => ({
  vehicles: s.vehicles,
  baselineLitres: litresNumber(s.baselineMl),
  baselineIdr: rupiahNumber(s.baselineIdr),
  purchasedLitres: litresNumber(s.purchasedMl),
  purchasedIdr: rupiahNumber(s.purchasedIdr),
  usedLitres: litresNumber(s.usedMl),
  ratedLitres: litresNumber(s.ratedMl),
  unexplainedLitres: litresNumber(s.unexplainedMl),
  savingsIdr: rupiahNumber(s.savingsIdr),
});

const monthsOfYear = (year: number): string[] => Array.from({ length: 12 }, (_, i) => `${year}-${String(i + 1).padStart(2, '0')}`);
const daysIn = (month: string): number => {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
};

export function createSavings(deps: SavingsDeps, reportTz: string) {
  const tz = reportTz;

  /** The rows of these months (open ones computed; `frozen` gives a closed month's stored rows). */
  async function monthRows(
    vehicles: readonly SavingsVehicle[],
    months: readonly string[],
    departmentNames: ReadonlyMap<string, string>,
    nowMs: number,
  ): Promise<Map<string, SavingsRow[]>> {
    const out = new Map<string, SavingsRow[]>();
    if (months.length === 0) return out;
    const ids = vehicles.map((v) => v.id);
    const first = months[0]!;
    const last = months[months.length - 1]!;
    // Every month from the first to the last (those asked for need not follow each other: closed ones are left out).
    const span = [first];
    while (span[span.length - 1]! < last) span.push(nextMonth(`${span[span.length - 1]!}-01`).slice(0, 7));
    const bounds = [...span.map((m) => monthRangeMs(tz, m).fromMs), monthRangeMs(tz, last).toMs];
    const [purchases, prices, allocations, use] = await Promise.all([
      deps.savings.purchaseSums(ids, bounds),
      deps.evidence.prices(),
      deps.savings.allocations(ids),
      deps.savings.monthUse(ids, first, last),
    ]);
    const bought = new Map<string, { ml: bigint; idr: bigint }>();
    for (const p of purchases) {
      const key = `${p.vehicleId}|${span[p.monthIndex]}`;
      const b = bought.get(key) ?? { ml: 0n, idr: 0n };
      b.ml += p.litresMl;
      b.idr += p.amountIdr;
      bought.set(key, b);
    }
    const allocationsOf = new Map<string, typeof allocations>();
    for (const a of allocations) allocationsOf.set(a.vehicleId, [...(allocationsOf.get(a.vehicleId) ?? []), a]);
    const useOf = new Map(use.map((u) => [`${u.vehicleId}|${u.month}`, u]));
    const today = localDayOf(tz, nowMs);

    // Each fuel's price on each day, once per month (not once per vehicle).
    const priceCache = new Map<string, Array<bigint | null>>();
    const pricesOf = (fuelType: string, days: readonly string[]): Array<bigint | null> => {
      const key = `${fuelType}|${days[0] ?? ''}|${days.length}`;
      let list = priceCache.get(key);
      if (!list) priceCache.set(key, (list = days.map((d) => priceInForce(prices, fuelType, d))));
      return list;
    };
    for (const month of months) {
      const total = daysIn(month);
      const elapsed = today < `${month}-01` ? 0 : today.slice(0, 7) === month ? Number(today.slice(8, 10)) : total;
      const days = Array.from({ length: elapsed }, (_, i) => addDays(`${month}-01`, i));
      const rows: SavingsRow[] = [];
      for (const v of vehicles) {
        const list = allocationsOf.get(v.id) ?? [];
        // The allocation in force: the latest from a month not after this one; the first applies from the beginning.
        const inForce = [...list].reverse().find((a) => a.fromMonth <= month) ?? list[0];
        const allocationMl = inForce ? inForce.litresMl : BigInt(Math.round(v.monthlyAllocationLitres * ML));
        const u = useOf.get(`${v.id}|${month}`);
        let usedLitres = 0;
        let usedSource: UsedSource = 'none';
        let ratedLitres = 0;
        if (u) {
          const tally = emptyTally();
          addTallyDays(tally, u);
          const resolved = resolveTally(tally);
          usedLitres = resolved.usedLitres;
          usedSource = u.activeDays > 0 ? resolved.fuelSource : 'none';
          ratedLitres = u.ratedLitres;
        }
        const level = u?.levels;
        const b = bought.get(`${v.id}|${month}`) ?? { ml: 0n, idr: 0n };
        rows.push(
          savingsRow({
            vehicleId: v.id,
            plateNumber: v.plateNumber,
            departmentId: v.departmentId,
            departmentName: departmentNames.get(v.departmentId) ?? '',
            daysInMonth: total,
            dayPrices: pricesOf(v.fuelType, days),
            allocationMl,
            purchasedMl: b.ml,
            purchasedIdr: b.idr,
            usedLitres,
            usedSource,
            ratedLitres,
            startLevelLitres: level?.start ?? null,
            endLevelLitres: level?.end ?? null,
            flags: [],
          }),
        );
      }
      out.set(month, rows);
    }
    return out;
  }

  /** Sums by department and in total; each department with its budget for the year and spend up to `spentToMs`. */
  async function summarise(
    rows: readonly SavingsRow[],
    year: number,
    departmentNames: ReadonlyMap<string, string>,
    vehicleIds: readonly string[],
    spentToMs: number,
  ) {
    const byDep = new Map<string, SavingsSums>();
    let totals = emptySums();
    for (const r of rows) {
      byDep.set(r.departmentId, addRow(byDep.get(r.departmentId) ?? emptySums(), r));
      totals = addRow(totals, r);
    }
    const yearFrom = monthRangeMs(tz, `${year}-01`).fromMs;
    const [budgets, spent] = await Promise.all([
      deps.savings.budgets(year),
      deps.savings.spentByDepartment(vehicleIds, yearFrom, spentToMs),
    ]);
    const departments: DepartmentView[] = [...byDep.entries()]
      .map(([departmentId, s]) => {
        const budget = budgets.get(departmentId) ?? null;
        const spend = spent.get(departmentId) ?? 0n;
        return {
          departmentId,
          departmentName: departmentNames.get(departmentId) ?? '',
          ...sumsView(s),
          budgetIdr: budget === null ? null : rupiahNumber(budget),
          spentIdr: rupiahNumber(spend),
          budgetLeftIdr: budget === null ? null : rupiahNumber(budget - spend),
        };
      })
      .sort((a, b) => a.departmentName.localeCompare(b.departmentName));
    return { departments, totals: sumsView(totals) };
  }

  return {
    monthRows,
    summarise,
    /** One open month's report (closed months are answered from their snapshot by the caller). */
    async month(
      vehicles: readonly SavingsVehicle[],
      month: string,
      departmentNames: ReadonlyMap<string, string>,
      nowMs: number,
    ): Promise<MonthSavings> {
      const rows = (await monthRows(vehicles, [month], departmentNames, nowMs)).get(month)!;
      const today = localDayOf(tz, nowMs).slice(0, 7);
      const { departments, totals } = await summarise(
        rows,
        Number(month.slice(0, 4)),
        departmentNames,
        vehicles.map((v) => v.id),
        Math.min(nowMs + 1, monthRangeMs(tz, month).toMs),
      );
      return { month, partial: today === month, closed: false, vehicles: rows.map(rowView), departments, totals };
    },
    monthsOfYear,
  };
}
export type Savings = ReturnType<typeof createSavings>;

/** A year's vehicle rows: each vehicle's months added (rounded rows, so the year adds up too). */
export function yearRows(months: ReadonlyArray<readonly SavingsRow[]>): SavingsRow[] {
  // Each vehicle's first row is copied once and added to in place (a fresh object per month was most of the time spent).
  const byVehicle = new Map<string, { row: SavingsRow; flags: Set<string> }>();
  for (const rows of months) {
    for (const r of rows) {
      const seen = byVehicle.get(r.vehicleId);
      if (!seen) {
        byVehicle.set(r.vehicleId, { row: { ...r, flags: [...r.flags] }, flags: new Set(r.flags) });
        continue;
      }
      const y = seen.row;
      y.baselineMl += r.baselineMl;
      y.baselineIdr += r.baselineIdr;
      y.purchasedMl += r.purchasedMl;
      y.purchasedIdr += r.purchasedIdr;
      y.usedMl += r.usedMl;
      if (r.usedSource !== 'none') y.usedSource = y.usedSource === 'none' ? r.usedSource : weakestSource(y.usedSource, r.usedSource);
      y.ratedMl += r.ratedMl;
      y.unexplainedMl += r.unexplainedMl;
      y.savingsIdr += r.savingsIdr;
      // As a Set of all the months' flags would: each once, in the order first seen.
      if (y.flags.length !== seen.flags.size) y.flags = [...seen.flags];
      for (const f of r.flags) {
        if (seen.flags.has(f)) continue;
        seen.flags.add(f);
        y.flags.push(f);
      }
    }
  }
  return [...byVehicle.values()].map((v) => v.row);
}
