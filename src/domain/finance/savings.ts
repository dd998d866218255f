/**
 * Savings, pure: the price in force, baselines prorated by day, and the vehicle-month rows
 * rounded half up once (totals are sums of rounded rows).
 */
import type { LocalDay } from '../report-time.js';
import { divideRoundHalfUp, ML_PER_LITRE } from './money.js';

export interface PriceEntry {
  fuelType: string;
  priceIdrPerLitre: bigint;
  validFrom: LocalDay;
}

/** The price in force: the latest of a fuel's prices whose validFrom (a local date) is not after the day. */
export function priceInForce(prices: readonly PriceEntry[], fuelType: string, day: LocalDay): bigint | null {
  let best: PriceEntry | null = null;
  for (const p of prices) if (p.fuelType === fuelType && p.validFrom <= day && (!best || p.validFrom > best.validFrom)) best = p;
  return best ? best.priceIdrPerLitre : null;
}

export type UsedSource = 'counter' | 'sensor' | 'rated' | 'none';

export interface SavingsInput {
  vehicleId: string;
  plateNumber: string;
  departmentId: string;
  departmentName: string;
  /** Days in the month, and those counted (all of them; the elapsed ones in the current month). */
  daysInMonth: number;
  /** The price in force of the vehicle's fuel on each counted day (null: no price known). */
  dayPrices: ReadonlyArray<bigint | null>;
  allocationMl: bigint;
  purchasedMl: bigint;
  purchasedIdr: bigint;
  usedLitres: number;
  usedSource: UsedSource;
  ratedLitres: number;
  startLevelLitres: number | null;
  endLevelLitres: number | null;
  flags: readonly string[];
}

/** One vehicle-month, every figure rounded once: litres to the millilitre, rupiah to the whole (half up). */
export interface SavingsRow {
  vehicleId: string;
  plateNumber: string;
  departmentId: string;
  departmentName: string;
  baselineMl: bigint;
  baselineIdr: bigint;
  purchasedMl: bigint;
  purchasedIdr: bigint;
  usedMl: bigint;
  usedSource: UsedSource;
  ratedMl: bigint;
  unexplainedMl: bigint;
  savingsIdr: bigint;
  flags: string[];
}

/** A float of litres as millilitres, half up (away from zero). */
export const mlOf = (litres: number): bigint => {
  const x = Math.abs(litres) * 1000;
  const r = BigInt(Math.floor(x + 0.5 + 1e-9));
  return litres < 0 ? -r : r;
};

/**
 * A month's baseline (allocation × Σ daily price / (days in month × 1000), a mid-month price
 * change counted by day, rounded once), kept per price list, days in month and allocation:
 * a fleet's rows share one list per fuel and month and mostly a few allocations, so 12,000
 * vehicle-months do a few bigint divisions, not 12,000. The lists are read-only once made.
 */
interface Baseline {
  idr: bigint;
  ml: bigint;
}
const priceSums = new WeakMap<ReadonlyArray<bigint | null>, { sum: bigint; unpriced: number; baselines: Map<string, Baseline> }>();
function baselineOf(dayPrices: ReadonlyArray<bigint | null>, daysInMonth: number, allocationMl: bigint) {
  let seen = priceSums.get(dayPrices);
  if (!seen) {
    let sum = 0n;
    let unpriced = 0;
    for (const p of dayPrices) {
      if (p === null) unpriced++;
      else sum += p;
    }
    priceSums.set(dayPrices, (seen = { sum, unpriced, baselines: new Map() }));
  }
  const key = `${daysInMonth}|${allocationMl}`;
  let baseline = seen.baselines.get(key);
  if (!baseline) {
    const days = BigInt(daysInMonth);
    baseline = {
      idr: days === 0n ? 0n : divideRoundHalfUp(allocationMl * seen.sum, days * ML_PER_LITRE),
      ml: days === 0n ? 0n : divideRoundHalfUp(allocationMl * BigInt(dayPrices.length), days),
    };
    seen.baselines.set(key, baseline);
  }
  return { unpriced: seen.unpriced, baseline };
}

export function savingsRow(input: SavingsInput): SavingsRow {
  const flags = [...input.flags];
  const { unpriced, baseline } = baselineOf(input.dayPrices, input.daysInMonth, input.allocationMl);
  if (unpriced > 0) flags.push('no_price');
  const baselineIdr = baseline.idr;
  const baselineMl = baseline.ml;
  const levelChange = input.startLevelLitres !== null && input.endLevelLitres !== null ? input.endLevelLitres - input.startLevelLitres : 0;
  if (input.startLevelLitres === null || input.endLevelLitres === null) flags.push('no_level');
  const purchasedLitres = Number(input.purchasedMl) / 1000;
  return {
    vehicleId: input.vehicleId,
    plateNumber: input.plateNumber,
    departmentId: input.departmentId,
    departmentName: input.departmentName,
    baselineMl,
    baselineIdr,
    purchasedMl: input.purchasedMl,
    purchasedIdr: input.purchasedIdr,
    usedMl: mlOf(input.usedLitres),
    usedSource: input.usedSource,
    ratedMl: mlOf(input.ratedLitres),
    unexplainedMl: mlOf(purchasedLitres - input.usedLitres - levelChange),
    savingsIdr: baselineIdr - input.purchasedIdr,
    flags,
  };
}

export interface SavingsSums {
  baselineMl: bigint;
  baselineIdr: bigint;
  purchasedMl: bigint;
  purchasedIdr: bigint;
  usedMl: bigint;
  ratedMl: bigint;
  unexplainedMl: bigint;
  savingsIdr: bigint;
  vehicles: number;
}

export const emptySums = (): SavingsSums => ({
  baselineMl: 0n,
  baselineIdr: 0n,
  purchasedMl: 0n,
  purchasedIdr: 0n,
  usedMl: 0n,
  ratedMl: 0n,
  unexplainedMl: 0n,
  savingsIdr: 0n,
  vehicles: 0,
});

/** Totals are sums of rounded rows, so a spreadsheet adds up. */
export function addRow(s: SavingsSums, r: Omit<SavingsSums, 'vehicles'>, countVehicle = true): SavingsSums {
  return {
    baselineMl: s.baselineMl + r.baselineMl,
    baselineIdr: s.baselineIdr + r.baselineIdr,
    purchasedMl: s.purchasedMl + r.purchasedMl,
    purchasedIdr: s.purchasedIdr + r.purchasedIdr,
    usedMl: s.usedMl + r.usedMl,
    ratedMl: s.ratedMl + r.ratedMl,
    unexplainedMl: s.unexplainedMl + r.unexplainedMl,
    savingsIdr: s.savingsIdr + r.savingsIdr,
    vehicles: s.vehicles + (countVehicle ? 1 : 0),
  };
}

const RANK: Record<UsedSource, number> = { counter: 3, sensor: 2, rated: 1, none: 0 };
/** The weakest source of several months (a year never claims more precision than its worst month). */
export const weakestSource = (a: UsedSource | null, b: UsedSource): UsedSource => (a === null || RANK[b] < RANK[a] ? b : a);
