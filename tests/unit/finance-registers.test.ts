import { describe, expect, it } from 'vitest';
import { priceOnDay } from '../../src/finance/catalog.js';
import { statementTime } from '../../src/finance/statement-import.js';
import type { FuelPrice } from '../../src/repositories/finance/prices.js';

const price = (fuelType: string, validFrom: string, idr: number): FuelPrice => ({
  id: `${fuelType}-${validFrom}`,
  fuelType,
  priceIdrPerLitre: BigInt(idr),
  validFrom,
  source: null,
  createdAt: new Date(0),
  createdByKeyId: null,
});

describe('the price in force on a local day', () => {
  const history = [
    price('pertamax', '2026-01-01', 12_350),
    price('pertamax', '2025-12-01', 12_750),
    price('dexlite', '2026-01-01', 13_500),
  ];
  it('is the latest validFrom not after the day, per fuel', () => {
    expect(priceOnDay(history, 'pertamax', '2025-11-30')).toBeUndefined();
    expect(priceOnDay(history, 'pertamax', '2025-12-01')?.priceIdrPerLitre).toBe(12_750n);
    expect(priceOnDay(history, 'pertamax', '2025-12-31')?.priceIdrPerLitre).toBe(12_750n);
    expect(priceOnDay(history, 'pertamax', '2026-01-01')?.priceIdrPerLitre).toBe(12_350n);
    expect(priceOnDay(history, 'dexlite', '2025-12-31')).toBeUndefined();
  });
});

describe('statement times', () => {
  it('read a time without an offset as local (WITA), and keep an explicit offset', () => {
    expect(statementTime('2026-11-14 08:15', 'Asia/Makassar')).toBe('2026-11-14T00:15:00.000Z');
    expect(statementTime('2026-11-14T08:15:30', 'Asia/Makassar')).toBe('2026-11-14T00:15:30.000Z');
    expect(statementTime('2026-11-14 00:10', 'Asia/Makassar')).toBe('2026-11-13T16:10:00.000Z');
    expect(statementTime('2026-11-14T08:15:00+07:00', 'Asia/Makassar')).toBe('2026-11-14T01:15:00.000Z');
    expect(statementTime('2026-11-14T08:15:00Z', 'Asia/Makassar')).toBe('2026-11-14T08:15:00.000Z');
    for (const bad of ['2026-02-30 08:00', '14/11/2026 08:15', '2026-11-14', 'yesterday', ''])
      expect(statementTime(bad, 'Asia/Makassar'), bad).toBeUndefined();
  });
});
