/** Savings rows (exact rupiah, prorated baselines, rounding once) and voucher grants and use, pure. */
import { describe, expect, it } from 'vitest';
import { addRow, emptySums, mlOf, priceInForce, savingsRow, type SavingsInput } from '../../src/domain/finance/savings.js';
import { yearRows } from '../../src/finance/savings.js';
import { grantLitres, voucherStatus, voucherUse, type VoucherFactsRow } from '../../src/domain/finance/vouchers.js';

const base: SavingsInput = {
  vehicleId: 'v',
  plateNumber: 'DH 1',
  departmentId: 'd',
  departmentName: 'Dinas',
  daysInMonth: 30,
  dayPrices: Array.from({ length: 30 }, () => 10_000n),
  allocationMl: 200_000n,
  purchasedMl: 150_000n,
  purchasedIdr: 1_500_000n,
  usedLitres: 140,
  usedSource: 'sensor',
  ratedLitres: 150,
  startLevelLitres: 20,
  endLevelLitres: 25,
  flags: [],
};

describe('savings rows', () => {
  it('baseline = allocation × price, savings = baseline − purchased, unexplained = purchased − used − level change', () => {
    const r = savingsRow(base);
    expect(r.baselineMl).toBe(200_000n);
    expect(r.baselineIdr).toBe(2_000_000n);
    expect(r.savingsIdr).toBe(500_000n);
    expect(r.unexplainedMl).toBe(5_000n); // 150 − 140 − (25 − 20)
  });

  it('prorates a mid-month price change by day, and rounds half up once', () => {
    // 10 days at 10,000 and 20 at 10,001: 200 L × (100,000 + 200,020) / 30 = 2,000,133.33…
    const prices = [...Array.from({ length: 10 }, () => 10_000n), ...Array.from({ length: 20 }, () => 10_001n)];
    expect(savingsRow({ ...base, dayPrices: prices }).baselineIdr).toBe(2_000_133n);
    // 1 L × 10,001 × 15 / 30 = 5,000.5 → 5,001 (half up)
    expect(
      savingsRow({ ...base, allocationMl: 1_000n, daysInMonth: 30, dayPrices: Array.from({ length: 15 }, () => 10_001n) }).baselineIdr,
    ).toBe(5_001n);
  });

  it('prorates the current month by elapsed days', () => {
    const r = savingsRow({ ...base, dayPrices: Array.from({ length: 6 }, () => 10_000n) });
    expect(r.baselineMl).toBe(40_000n);
    expect(r.baselineIdr).toBe(400_000n);
  });

  it('gives each allocation and month length its own baseline when rows share one price list', () => {
    // A fleet's rows share one list per fuel and month (its sum is kept per list): the baseline still follows each row.
    const shared = [...Array.from({ length: 10 }, () => 10_000n), ...Array.from({ length: 20 }, () => 10_001n)];
    expect(savingsRow({ ...base, dayPrices: shared }).baselineIdr).toBe(2_000_133n);
    expect(savingsRow({ ...base, dayPrices: shared, allocationMl: 300_000n }).baselineIdr).toBe(3_000_200n);
    expect(savingsRow({ ...base, dayPrices: shared, daysInMonth: 31 })).toMatchObject({ baselineMl: 193_548n, baselineIdr: 1_935_613n });
    expect(savingsRow({ ...base, dayPrices: shared }).baselineIdr).toBe(2_000_133n);
  });

  it("adds a vehicle's months into its year row, flags once each, and leaves the month rows as they were", () => {
    const jan = savingsRow({ ...base, startLevelLitres: null });
    const feb = savingsRow({ ...base, dayPrices: [null, 10_000n], startLevelLitres: null });
    const mar = { ...savingsRow(base), usedSource: 'none' as const };
    const before = structuredClone([jan, feb, mar]);
    const [year] = yearRows([[jan], [feb], [mar]]);
    expect(year).toMatchObject({
      baselineMl: jan.baselineMl + feb.baselineMl + mar.baselineMl,
      baselineIdr: jan.baselineIdr + feb.baselineIdr + mar.baselineIdr,
      savingsIdr: jan.savingsIdr + feb.savingsIdr + mar.savingsIdr,
      unexplainedMl: jan.unexplainedMl + feb.unexplainedMl + mar.unexplainedMl,
      usedSource: 'sensor',
      flags: ['no_level', 'no_price'],
    });
    expect([jan, feb, mar]).toEqual(before);
  });

  it('says when a price or a level is missing', () => {
    expect(savingsRow({ ...base, dayPrices: [null, 10_000n] }).flags).toContain('no_price');
    expect(savingsRow({ ...base, startLevelLitres: null }).flags).toContain('no_level');
  });

  it('totals are sums of rounded rows', () => {
    const rows = [
      savingsRow({ ...base, allocationMl: 1_000n, dayPrices: Array.from({ length: 15 }, () => 10_001n) }),
      savingsRow({ ...base, allocationMl: 1_000n, dayPrices: Array.from({ length: 15 }, () => 10_001n) }),
    ];
    const total = rows.reduce((s, r) => addRow(s, r), emptySums());
    expect(total.baselineIdr).toBe(10_002n); // 5,001 + 5,001, not round(10,001)
    expect(total.vehicles).toBe(2);
  });

  it('rounds litres half up to the millilitre', () => {
    expect(mlOf(1.0005)).toBe(1_001n);
    expect(mlOf(-1.0005)).toBe(-1_001n);
    expect(mlOf(2.0004)).toBe(2_000n);
  });

  it('finds the price in force on a day', () => {
    const prices = [
      { fuelType: 'pertalite', priceIdrPerLitre: 10_000n, validFrom: '2026-01-01' },
      { fuelType: 'pertalite', priceIdrPerLitre: 10_500n, validFrom: '2026-03-15' },
      { fuelType: 'solar', priceIdrPerLitre: 6_800n, validFrom: '2026-01-01' },
    ];
    expect(priceInForce(prices, 'pertalite', '2026-03-14')).toBe(10_000n);
    expect(priceInForce(prices, 'pertalite', '2026-03-15')).toBe(10_500n);
    expect(priceInForce(prices, 'pertalite', '2025-12-31')).toBeNull();
    expect(priceInForce(prices, 'dexlite', '2026-03-15')).toBeNull();
  });
});

describe('vouchers', () => {
  const grant = {
    requestedMl: null,
    tankCapacityMl: 55_000n,
    levelMl: 15_000n,
    allocationMl: 200_000n,
    purchasedMl: 100_000n,
    openVouchersMl: 0n,
  };

  it('grants what the tank can take and the allocation has left, whichever is less', () => {
    expect(grantLitres(grant)).toEqual({ grantedMl: 40_000n, limitedBy: 'tank_room' });
    expect(grantLitres({ ...grant, purchasedMl: 170_000n })).toEqual({ grantedMl: 30_000n, limitedBy: 'allocation_left' });
    expect(grantLitres({ ...grant, openVouchersMl: 180_000n, purchasedMl: 30_000n })).toEqual({
      grantedMl: 0n,
      limitedBy: 'allocation_left',
    });
    expect(grantLitres({ ...grant, requestedMl: 20_000n })).toEqual({ grantedMl: 20_000n, limitedBy: null });
    expect(grantLitres({ ...grant, requestedMl: 50_000n })).toEqual({ grantedMl: 40_000n, limitedBy: 'tank_room' });
    expect(grantLitres({ ...grant, levelMl: null })).toEqual({ grantedMl: 0n, limitedBy: 'no_recent_level' });
  });

  const v: VoucherFactsRow = { id: 'v1', code: 'ABCD', vehicleId: 'car', grantedMl: 30_000n, createdAtMs: 1000, expiresAtMs: 10_000 };
  const p = (id: string, seq: number, over: Partial<{ vehicleId: string; atMs: number }> = {}) => ({
    id,
    seq,
    vehicleId: 'car',
    atMs: 5000,
    voucherCode: 'ABCD',
    ...over,
  });

  it('is open, redeemed by the first purchase naming it, or expired', () => {
    expect(voucherStatus(v, [], 5000)).toBe('open');
    expect(voucherStatus(v, [], 20_000)).toBe('expired');
    expect(voucherStatus(v, [p('a', 1)], 20_000)).toBe('redeemed');
    // A purchase by another vehicle does not redeem it.
    expect(voucherStatus(v, [p('a', 1, { vehicleId: 'other' })], 5000)).toBe('open');
  });

  it('grants nothing to a second purchase, another vehicle, or after expiry: misuse, flagged not refused', () => {
    const all = [p('a', 1), p('b', 2)];
    expect(voucherUse(v, all[0]!, all)).toEqual({ grantedMl: 30_000n, problem: null });
    expect(voucherUse(v, all[1]!, all).problem).toContain('already redeemed by purchase a');
    expect(voucherUse(v, p('c', 3, { vehicleId: 'other' }), all).problem).toBe('issued to another vehicle');
    expect(voucherUse(v, p('d', 4, { atMs: 20_000 }), []).problem).toContain('expired');
    expect(voucherUse(undefined, p('e', 5), []).problem).toBe('no such voucher');
    // Voided: the first purchase is no longer in the list, so the next one redeems it.
    expect(voucherUse(v, all[1]!, [all[1]!])).toEqual({ grantedMl: 30_000n, problem: null });
  });
});
