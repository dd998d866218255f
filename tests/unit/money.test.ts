import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { amountIdr, divideRoundHalfUp, formatLitres, formatRupiah, parseLitres } from '../../src/domain/finance/money.js';

describe('ledger litres', () => {
  it('parses decimals exactly and refuses what is not one', () => {
    expect(parseLitres('12.5')).toBe(12_500n);
    expect(parseLitres('40')).toBe(40_000n);
    expect(parseLitres('0.125')).toBe(125n);
    expect(parseLitres(33.333)).toBe(33_333n);
    expect(parseLitres(0.1 + 0.2)).toBe(300n);
    for (const bad of ['', '-1', '1.2345', '1e3', 'abc', '1,5']) expect(() => parseLitres(bad), bad).toThrow(RangeError);
    expect(() => parseLitres(12.3456)).toThrow(/three decimals/);
    expect(() => parseLitres(Number.NaN)).toThrow(RangeError);
  });

  it('round-trips through the database text form', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 999_999_999_999n }), (ml) => parseLitres(formatLitres(ml)) === ml));
    expect(formatLitres(12_500n)).toBe('12.500');
    expect(formatLitres(-5n)).toBe('-0.005');
  });
});

describe('rupiah', () => {
  it('rounds half up, once', () => {
    expect(divideRoundHalfUp(5n, 2n)).toBe(3n);
    expect(divideRoundHalfUp(4n, 2n)).toBe(2n);
    expect(divideRoundHalfUp(-5n, 2n)).toBe(-3n);
    expect(divideRoundHalfUp(1499n, 1000n)).toBe(1n);
    expect(divideRoundHalfUp(1500n, 1000n)).toBe(2n);
    // 12.345 L at Rp 10.000 = Rp 123.450; 0.0005 L at Rp 1.000 = Rp 0,5 → 1.
    expect(amountIdr(12_345n, 10_000n)).toBe(123_450n);
    expect(amountIdr(1n, 500n)).toBe(1n);
    expect(amountIdr(1n, 499n)).toBe(0n);
  });

  it('writes rupiah the Indonesian way', () => {
    expect(formatRupiah(1_234_567n)).toBe('Rp 1.234.567');
    expect(formatRupiah(0)).toBe('Rp 0');
    expect(formatRupiah(-1000n)).toBe('-Rp 1.000');
  });
});
