/** Reconciliation, pure: matching and every flag with its negative, on hand-made inputs. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RECONCILE_SETTINGS as S,
  judgePurchase,
  matchPurchases,
  reconcileVehicle,
  type PurchaseEvidence,
  type PurchaseFacts,
  type RefuelFacts,
  type VehicleFacts,
} from '../../src/domain/finance/reconcile.js';

const T0 = Date.parse('2026-03-10T02:00:00Z');
const MIN = 60_000;
const station = { lat: -10.17, lon: 123.6 };
const vehicle: VehicleFacts = { id: 'v1', fuelType: 'pertalite', tankCapacityLitres: 55 };

function purchase(over: Partial<PurchaseFacts> = {}): PurchaseFacts {
  return {
    id: 'p1',
    vehicleId: 'v1',
    atMs: T0,
    litresMl: 30_000n,
    amountIdr: 300_000n,
    fuelType: 'pertalite',
    ...station,
    receiptNo: 'R1',
    odometerKm: null,
    voucherCode: null,
    entryFlags: [],
    ...over,
  };
}

function refuel(over: Partial<RefuelFacts> = {}): RefuelFacts {
  return { atMs: T0 - 6 * MIN, endMs: T0 - 2 * MIN, litres: 30, ...station, levelBeforeLitres: 15, levelAfterLitres: 45, ...over };
}

function evidence(over: Partial<PurchaseEvidence> = {}): PurchaseEvidence {
  return {
    readings: [{ fixAtMs: T0 - MIN, ...station, odometerKm: 1000 }],
    hasLevel: true,
    priceIdrPerLitre: 10_000n,
    settled: true,
    refuelThresholdLitres: 4,
    ...over,
  };
}

const kinds = (v: { flags: Array<{ kind: string }> }) => v.flags.map((f) => f.kind);

describe('matching', () => {
  it('matches one to one, nearest first, within the window', () => {
    const refuels = [refuel({ atMs: T0 - 10 * MIN, endMs: T0 - 5 * MIN }), refuel({ atMs: T0 + 100 * MIN, endMs: T0 + 105 * MIN })];
    const purchases = [
      { id: 'honest', atMs: T0 },
      // An hour later: the first refuel is nearer to it than the second, but the honest receipt is nearer still.
      { id: 'late', atMs: T0 + 60 * MIN },
      { id: 'far', atMs: T0 + 10 * 60 * MIN },
    ];
    const m = matchPurchases(purchases, refuels, S.matchWindowS);
    expect(m.get('honest')).toBe(0);
    expect(m.get('late')).toBe(1);
    expect(m.has('far')).toBe(false);
    // The order the lists come in does not matter.
    const again = matchPurchases([...purchases].reverse(), refuels, S.matchWindowS);
    expect([...again.entries()].sort()).toEqual([...m.entries()].sort());
  });

  it('leaves a refuel nobody bought listed', () => {
    const r = reconcileVehicle(
      {
        vehicle,
        purchases: [purchase()],
        refuels: [refuel(), refuel({ atMs: T0 + 5 * 3600_000, endMs: T0 + 5 * 3600_000 + 5 * MIN })],
        evidence: new Map([['p1', evidence()]]),
      },
      S,
    );
    expect(r.verdicts[0]!.status).toBe('matched');
    expect(r.unmatchedRefuels).toHaveLength(1);
  });
});

describe('flags', () => {
  const judge = (p: Partial<PurchaseFacts>, r: RefuelFacts | null, e: Partial<PurchaseEvidence> = {}, s = S) =>
    judgePurchase(purchase(p), vehicle, r, evidence(e), s);

  it('an honest receipt next to its fill is matched, with no flag', () => {
    const v = judge({}, refuel());
    expect(v).toMatchObject({ status: 'matched', flags: [] });
  });

  it('no_tank_rise: no refuel near the purchase; not for a purchase too small to show', () => {
    expect(kinds(judge({}, null))).toEqual(['no_tank_rise']);
    expect(judge({}, null).status).toBe('flagged');
    const small = judge({ litresMl: 3_000n, amountIdr: 30_000n }, null);
    expect(kinds(small)).toEqual([]);
    expect(small.status).toBe('unverifiable');
  });

  it('more_than_rise: beyond max(3 L, 8 %) of the rise', () => {
    // 30 L rise: tolerance 3 L.
    expect(kinds(judge({ litresMl: 33_500n, amountIdr: 335_000n }, refuel()))).toEqual(['more_than_rise']);
    expect(kinds(judge({ litresMl: 32_900n, amountIdr: 329_000n }, refuel()))).toEqual([]);
    // 100 L rise: tolerance 8 L.
    const big = refuel({ litres: 100, levelBeforeLitres: 10, levelAfterLitres: 110 });
    const truck = { ...vehicle, tankCapacityLitres: 200 };
    expect(kinds(judgePurchase(purchase({ litresMl: 107_000n, amountIdr: 1_070_000n }), truck, big, evidence(), S))).toEqual([]);
    expect(kinds(judgePurchase(purchase({ litresMl: 109_000n, amountIdr: 1_090_000n }), truck, big, evidence(), S))).toEqual([
      'more_than_rise',
    ]);
  });

  it('away_from_vehicle: more than 1 km from where the vehicle was', () => {
    const elsewhere = { lat: station.lat + 0.03, lon: station.lon }; // about 3.3 km
    expect(kinds(judge(elsewhere, null))).toEqual(['no_tank_rise', 'away_from_vehicle']);
    const near = { lat: station.lat + 0.005, lon: station.lon }; // about 550 m
    expect(kinds(judge(near, refuel()))).toEqual([]);
    // With a match, the fill's position counts, not a reading taken elsewhere.
    expect(
      kinds(judge({}, refuel(), { readings: [{ fixAtMs: T0, lat: station.lat + 0.05, lon: station.lon, odometerKm: null }] })),
    ).toEqual([]);
    expect(kinds(judge({}, refuel({ lat: station.lat + 0.05 })))).toEqual(['away_from_vehicle']);
  });

  it('over_tank_capacity: more than the tank had room for', () => {
    const full = refuel({ litres: 30, levelBeforeLitres: 40, levelAfterLitres: 55 });
    expect(kinds(judge({}, full))).toContain('over_tank_capacity');
    expect(kinds(judge({}, refuel()))).not.toContain('over_tank_capacity');
    // Without a level: more than the whole tank.
    expect(kinds(judge({ litresMl: 70_000n, amountIdr: 700_000n }, null, { hasLevel: false }))).toEqual(['over_tank_capacity']);
    expect(kinds(judge({ litresMl: 50_000n, amountIdr: 500_000n }, null, { hasLevel: false }))).toEqual([]);
  });

  it('fuel_type_mismatch', () => {
    expect(kinds(judge({ fuelType: 'solar', amountIdr: 204_000n }, refuel(), { priceIdrPerLitre: 6_800n }))).toEqual([
      'fuel_type_mismatch',
    ]);
    expect(kinds(judge({}, refuel()))).toEqual([]);
  });

  it('duplicate_receipt: as the ledger recorded it', () => {
    expect(kinds(judge({ entryFlags: [{ kind: 'duplicate_receipt', detail: 'receipt R1 also on purchase x' }] }, refuel()))).toEqual([
      'duplicate_receipt',
    ]);
    expect(kinds(judge({ entryFlags: [{ kind: 'something_else', detail: '' }] }, refuel()))).toEqual([]);
  });

  it('no_telemetry: nobody can vouch for it', () => {
    const v = judge({}, null, { readings: [] });
    expect(kinds(v)).toEqual(['no_telemetry']);
    expect(v.status).toBe('flagged');
  });

  it('voucher_exceeded: more than granted, or a voucher that cannot be used', () => {
    expect(kinds(judge({ voucherCode: 'ABC' }, refuel(), { voucher: { grantedMl: 25_000n, problem: null } }))).toEqual([
      'voucher_exceeded',
    ]);
    expect(kinds(judge({ voucherCode: 'ABC' }, refuel(), { voucher: { grantedMl: 30_000n, problem: null } }))).toEqual([]);
    expect(kinds(judge({ voucherCode: 'ABC' }, refuel(), { voucher: { grantedMl: 0n, problem: 'already redeemed' } }))).toEqual([
      'voucher_exceeded',
    ]);
  });

  it('price_mismatch: more than 1 % from the price in force', () => {
    expect(kinds(judge({ amountIdr: 303_500n }, refuel()))).toEqual(['price_mismatch']);
    expect(kinds(judge({ amountIdr: 296_500n }, refuel()))).toEqual(['price_mismatch']);
    expect(kinds(judge({ amountIdr: 302_900n }, refuel()))).toEqual([]);
    expect(kinds(judge({ amountIdr: 999_999n }, refuel(), { priceIdrPerLitre: null }))).toEqual([]);
  });

  it('odometer_mismatch: the receipt far from the tracker', () => {
    expect(kinds(judge({ odometerKm: 1100 }, refuel()))).toEqual(['odometer_mismatch']);
    expect(kinds(judge({ odometerKm: 1003 }, refuel()))).toEqual([]);
  });

  it('subsidised_fuel: only when the setting names the fuel', () => {
    expect(kinds(judge({}, refuel(), {}, { ...S, subsidisedFuels: ['pertalite', 'solar'] }))).toEqual(['subsidised_fuel']);
    expect(kinds(judge({}, refuel()))).toEqual([]);
    expect(
      kinds(
        judge(
          { fuelType: 'pertamax', amountIdr: 375_000n },
          refuel(),
          { priceIdrPerLitre: 12_500n },
          { ...S, subsidisedFuels: ['pertalite'] },
        ),
      ),
    ).toEqual(['fuel_type_mismatch']);
  });

  it('beyond_rated_use: without a level, the purchase that takes the month past rated use plus a tank', () => {
    const noLevel = { hasLevel: false, ratedLitresToDate: 100 };
    const within = judge({}, null, { ...noLevel, purchasedBeforeMl: 120_000n });
    expect(kinds(within)).toEqual([]);
    expect(within.status).toBe('unverifiable');
    expect(kinds(judge({}, null, { ...noLevel, purchasedBeforeMl: 130_000n }))).toEqual(['beyond_rated_use']);
  });

  it('is pending until settled, whatever it found', () => {
    expect(judge({}, null, { settled: false }).status).toBe('pending');
    expect(judge({}, refuel(), { settled: false }).status).toBe('pending');
  });
});
