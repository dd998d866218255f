/**
 * Reconciliation: each purchase (the receipt) judged against what the tank sensor saw
 * (the refuels the analytics detected) and where the vehicle was (its readings). Pure:
 * the service gathers the evidence (src/finance/reconciliation.ts) and this decides.
 *
 * Matching is one-to-one and nearest first: every (purchase, refuel) pair of one vehicle
 * whose times are within the window is a candidate; the closest pair is matched first,
 * then the next closest of what is left, so an honest receipt next to its fill keeps it
 * even when a phantom receipt an hour later also falls within the window. A refuel's
 * time is the span its level rose over; a receipt printed while or after the pump ran is
 * as near as it can be.
 */
import { haversineM } from '../geo.js';
import { ML_PER_LITRE } from './money.js';

export const flagKinds = [
  'no_tank_rise',
  'more_than_rise',
  'away_from_vehicle',
  'over_tank_capacity',
  'fuel_type_mismatch',
  'duplicate_receipt',
  'no_telemetry',
  'voucher_exceeded',
  'price_mismatch',
  'odometer_mismatch',
  'subsidised_fuel',
  'beyond_rated_use',
] as const;
export type FlagKind = (typeof flagKinds)[number];
/** The alert kind a settled flag raises: `receipt_` and the flag's kind. */
export const receiptAlertKinds = [
  'receipt_no_tank_rise',
  'receipt_more_than_rise',
  'receipt_away_from_vehicle',
  'receipt_over_tank_capacity',
  'receipt_fuel_type_mismatch',
  'receipt_duplicate_receipt',
  'receipt_no_telemetry',
  'receipt_voucher_exceeded',
  'receipt_price_mismatch',
  'receipt_odometer_mismatch',
  'receipt_subsidised_fuel',
  'receipt_beyond_rated_use',
] as const satisfies ReadonlyArray<`receipt_${FlagKind}`>;
export const receiptAlertKind = (kind: FlagKind): (typeof receiptAlertKinds)[number] => `receipt_${kind}`;
export interface Flag {
  kind: FlagKind;
  detail: string;
}

export type VerdictStatus = 'pending' | 'matched' | 'flagged' | 'unverifiable';

export interface ReconcileSettings {
  /** A refuel within this of the receipt's time may be its fill (receipts' clocks are rough). */
  matchWindowS: number;
  /** Receipt litres may exceed the measured rise by max(this many litres, this percent of the rise). */
  riseToleranceLitres: number;
  riseTolerancePercent: number;
  /** The vehicle further than this from the purchase's position. */
  awayKm: number;
  /** Readings this close in time to the purchase place the vehicle (and vouch for it). */
  positionWindowS: number;
  /** amount ÷ litres more than this percent from the price in force. */
  priceTolerancePercent: number;
  /** The receipt's odometer further than this from the telemetry's. */
  odometerToleranceKm: number;
  /** Fuel types official vehicles may not buy (subsidised); empty: not judged. */
  subsidisedFuels: readonly string[];
  /** A purchase waits this long for its vehicle's telemetry before it is judged without it. */
  telemetryWaitS: number;
}

export const DEFAULT_RECONCILE_SETTINGS: ReconcileSettings = Object.freeze({
  matchWindowS: 7200,
  riseToleranceLitres: 3,
  riseTolerancePercent: 8,
  awayKm: 1,
  positionWindowS: 600,
  priceTolerancePercent: 1,
  odometerToleranceKm: 5,
  subsidisedFuels: Object.freeze([]) as readonly string[],
  telemetryWaitS: 72 * 3600,
});

export interface PurchaseFacts {
  id: string;
  vehicleId: string;
  atMs: number;
  litresMl: bigint;
  amountIdr: bigint;
  fuelType: string;
  lat: number | null;
  lon: number | null;
  receiptNo: string | null;
  odometerKm: number | null;
  voucherCode: string | null;
  /** Facts the ledger recorded when the entry was written (e.g. duplicate_receipt). */
  entryFlags: ReadonlyArray<{ kind: string; detail: string }>;
}

export interface VehicleFacts {
  id: string;
  fuelType: string;
  tankCapacityLitres: number;
}

export interface RefuelFacts {
  atMs: number;
  endMs: number;
  litres: number;
  lat: number;
  lon: number;
  levelBeforeLitres: number;
  levelAfterLitres: number;
}

export interface ReadingFacts {
  fixAtMs: number;
  lat: number;
  lon: number;
  odometerKm: number | null;
}

/** What a voucher named on a receipt allows: 0 litres when it cannot be used (why in `problem`). */
export interface VoucherFacts {
  grantedMl: bigint;
  problem: string | null;
}

/** Everything known about one purchase besides the match. */
export interface PurchaseEvidence {
  /** The vehicle's readings within positionWindowS of the purchase. */
  readings: readonly ReadingFacts[];
  /** Whether the vehicle reported a tank level around the purchase. */
  hasLevel: boolean;
  /** The price in force for the purchase's fuel on its local day, if known. */
  priceIdrPerLitre: bigint | null;
  /** The voucher the receipt names, looked up (undefined when it names none). */
  voucher?: VoucherFacts;
  /** Without a level: rated use of the month up to the purchase's day, and litres bought in the month before it. */
  ratedLitresToDate?: number;
  purchasedBeforeMl?: bigint;
  /** The analytics of the purchase's window are final and its telemetry has had time to arrive. */
  settled: boolean;
  /** Refuel detection's smallest event for this vehicle: less cannot show as a rise. */
  refuelThresholdLitres: number;
}

export interface Verdict {
  purchaseId: string;
  status: VerdictStatus;
  flags: Flag[];
  refuel: RefuelFacts | null;
}

const litresOf = (ml: bigint): number => Number(ml) / Number(ML_PER_LITRE);
const fmt = (x: number, d = 2): string => x.toFixed(d);

/** How far apart in time a receipt and a refuel are: zero while the level rose. */
export function timeGapMs(purchaseAtMs: number, refuel: Pick<RefuelFacts, 'atMs' | 'endMs'>): number {
  if (purchaseAtMs < refuel.atMs) return refuel.atMs - purchaseAtMs;
  if (purchaseAtMs > refuel.endMs) return purchaseAtMs - refuel.endMs;
  return 0;
}

/**
 * One-to-one, nearest first, within the window: purchase id → index of its refuel in
 * `refuels`. Both lists are one vehicle's. Ties go to the earlier purchase, then refuel,
 * so the answer does not depend on the order the lists came in.
 */
export function matchPurchases(
  purchases: ReadonlyArray<Pick<PurchaseFacts, 'id' | 'atMs'>>,
  refuels: readonly RefuelFacts[],
  windowS: number,
): Map<string, number> {
  const pairs: Array<{ gap: number; pAt: number; pId: string; rAt: number; r: number }> = [];
  for (const p of purchases) {
    refuels.forEach((r, i) => {
      const gap = timeGapMs(p.atMs, r);
      if (gap <= windowS * 1000) pairs.push({ gap, pAt: p.atMs, pId: p.id, rAt: r.atMs, r: i });
    });
  }
  pairs.sort((a, b) => a.gap - b.gap || a.pAt - b.pAt || (a.pId < b.pId ? -1 : a.pId > b.pId ? 1 : 0) || a.rAt - b.rAt);
  const byPurchase = new Map<string, number>();
  const taken = new Set<number>();
  for (const pair of pairs) {
    if (byPurchase.has(pair.pId) || taken.has(pair.r)) continue;
    byPurchase.set(pair.pId, pair.r);
    taken.add(pair.r);
  }
  return byPurchase;
}

/** Receipt litres beyond the measured rise that still count as the same fill. */
export const riseTolerance = (s: ReconcileSettings, riseLitres: number): number =>
  Math.max(s.riseToleranceLitres, (s.riseTolerancePercent / 100) * riseLitres);

/** Room in the tank beyond which a fill cannot have gone in: level noise and a brim-full pump. */
const tankTolerance = (capacity: number): number => Math.max(1, 0.05 * capacity);

/** Judges one purchase, given its match (or none) and its evidence. */
export function judgePurchase(
  p: PurchaseFacts,
  vehicle: VehicleFacts,
  refuel: RefuelFacts | null,
  ev: PurchaseEvidence,
  s: ReconcileSettings,
): Verdict {
  const flags: Flag[] = [];
  const litres = litresOf(p.litresMl);
  const noTelemetry = ev.readings.length === 0;

  // The tank.
  if (ev.hasLevel) {
    if (refuel) {
      const extra = litres - refuel.litres;
      if (extra > riseTolerance(s, refuel.litres)) {
        flags.push({
          kind: 'more_than_rise',
          detail: `receipt ${fmt(litres)} L, tank rose ${fmt(refuel.litres)} L (${fmt(extra)} L more)`,
        });
      }
      const room = vehicle.tankCapacityLitres - refuel.levelBeforeLitres;
      if (litres > room + tankTolerance(vehicle.tankCapacityLitres)) {
        flags.push({
          kind: 'over_tank_capacity',
          detail:
            `receipt ${fmt(litres)} L, the tank had room for ${fmt(room)} L ` +
            `(${fmt(refuel.levelBeforeLitres)} L of ${fmt(vehicle.tankCapacityLitres)} L)`,
        });
      }
    } else if (!noTelemetry && litres >= ev.refuelThresholdLitres) {
      flags.push({
        kind: 'no_tank_rise',
        detail: `no refuel within ${Math.round(s.matchWindowS / 60)} min of the receipt's ${fmt(litres)} L`,
      });
    }
  }
  if ((!ev.hasLevel || !refuel) && litres > vehicle.tankCapacityLitres + tankTolerance(vehicle.tankCapacityLitres)) {
    flags.push({ kind: 'over_tank_capacity', detail: `receipt ${fmt(litres)} L, the tank holds ${fmt(vehicle.tankCapacityLitres)} L` });
  }

  // Where the vehicle was: at the fill when there is one (receipts' clocks are rough), else its readings near the receipt's time.
  if (noTelemetry) {
    flags.push({
      kind: 'no_telemetry',
      detail: `no reading of the vehicle within ${Math.round(s.positionWindowS / 60)} min of the purchase`,
    });
  } else if (p.lat !== null && p.lon !== null) {
    const places = refuel ? [refuel] : ev.readings;
    let nearestM = Infinity;
    for (const r of places) nearestM = Math.min(nearestM, haversineM(r.lat, r.lon, p.lat, p.lon));
    if (nearestM > s.awayKm * 1000) {
      flags.push({
        kind: 'away_from_vehicle',
        detail: `the vehicle was ${fmt(nearestM / 1000, 1)} km from the purchase's position${refuel ? ' when its tank rose' : ''}`,
      });
    }
  }

  if (p.fuelType !== vehicle.fuelType)
    flags.push({ kind: 'fuel_type_mismatch', detail: `bought ${p.fuelType}; the vehicle runs on ${vehicle.fuelType}` });

  const duplicate = p.entryFlags.find((f) => f.kind === 'duplicate_receipt');
  if (duplicate) flags.push({ kind: 'duplicate_receipt', detail: duplicate.detail || `receipt ${p.receiptNo ?? ''} was already used` });

  if (ev.voucher) {
    const grantedL = litresOf(ev.voucher.grantedMl);
    if (ev.voucher.problem) flags.push({ kind: 'voucher_exceeded', detail: `voucher ${p.voucherCode}: ${ev.voucher.problem}` });
    else if (p.litresMl > ev.voucher.grantedMl)
      flags.push({
        kind: 'voucher_exceeded',
        detail: `bought ${fmt(litres)} L on voucher ${p.voucherCode}, which grants ${fmt(grantedL)} L`,
      });
  }

  if (ev.priceIdrPerLitre !== null && p.litresMl > 0n) {
    // |amount − price × litres| > tolerance × price × litres, in whole numbers: amount × 1000 vs price × ml.
    const paid = p.amountIdr * ML_PER_LITRE;
    const expected = ev.priceIdrPerLitre * p.litresMl;
    const diff = paid > expected ? paid - expected : expected - paid;
    const tol = BigInt(Math.round(s.priceTolerancePercent * 100));
    if (diff * 10_000n > tol * expected) {
      const unit = Number(p.amountIdr) / litres;
      flags.push({
        kind: 'price_mismatch',
        detail: `paid Rp ${Math.round(unit)} per litre; the price in force was Rp ${ev.priceIdrPerLitre}`,
      });
    }
  }

  if (p.odometerKm !== null) {
    const withOdo = ev.readings.filter((r) => r.odometerKm !== null);
    if (withOdo.length > 0) {
      const nearest = withOdo.reduce((a, b) => (Math.abs(b.fixAtMs - p.atMs) < Math.abs(a.fixAtMs - p.atMs) ? b : a));
      const diff = Math.abs(nearest.odometerKm! - p.odometerKm);
      if (diff > s.odometerToleranceKm)
        flags.push({
          kind: 'odometer_mismatch',
          detail: `receipt odometer ${fmt(p.odometerKm, 0)} km, tracker ${fmt(nearest.odometerKm!, 0)} km`,
        });
    }
  }

  if (s.subsidisedFuels.includes(p.fuelType))
    flags.push({ kind: 'subsidised_fuel', detail: `${p.fuelType} is subsidised fuel, which official vehicles may not buy` });

  if (!ev.hasLevel && ev.ratedLitresToDate !== undefined && ev.purchasedBeforeMl !== undefined) {
    const bought = litresOf(ev.purchasedBeforeMl + p.litresMl);
    const limit = ev.ratedLitresToDate + vehicle.tankCapacityLitres;
    if (bought > limit) {
      flags.push({
        kind: 'beyond_rated_use',
        detail:
          `${fmt(bought)} L bought this month; rated use so far ${fmt(ev.ratedLitresToDate)} L ` +
          `plus a tank of ${fmt(vehicle.tankCapacityLitres)} L`,
      });
    }
  }

  // Without flags: matched when the tank saw the fill; unverifiable when it could not (no sensor, or too little to show).
  const status: VerdictStatus = !ev.settled ? 'pending' : flags.length > 0 ? 'flagged' : ev.hasLevel && refuel ? 'matched' : 'unverifiable';
  return { purchaseId: p.id, status, flags, refuel };
}

export interface VehicleMonthInput {
  vehicle: VehicleFacts;
  purchases: readonly PurchaseFacts[];
  refuels: readonly RefuelFacts[];
  evidence: ReadonlyMap<string, PurchaseEvidence>;
}

/** Judges one vehicle's purchases: matches them to its refuels, then each on its own. */
export function reconcileVehicle(input: VehicleMonthInput, s: ReconcileSettings): { verdicts: Verdict[]; unmatchedRefuels: RefuelFacts[] } {
  const sorted = [...input.purchases].sort((a, b) => a.atMs - b.atMs || (a.id < b.id ? -1 : 1));
  // Only vehicles with a level have refuels to match; a purchase without its evidence cannot be judged.
  const matchable = sorted.filter((p) => input.evidence.get(p.id)?.hasLevel);
  const match = matchPurchases(matchable, input.refuels, s.matchWindowS);
  const verdicts = sorted.map((p) => {
    const i = match.get(p.id);
    return judgePurchase(p, input.vehicle, i === undefined ? null : input.refuels[i]!, input.evidence.get(p.id)!, s);
  });
  const used = new Set(match.values());
  return { verdicts, unmatchedRefuels: input.refuels.filter((_, i) => !used.has(i)) };
}
