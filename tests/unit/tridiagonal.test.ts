/** The tridiagonal solver behind the sensor's consumption fit, against a dense solve. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { solveTridiagonal } from '../../src/domain/fuel/tridiagonal.js';

/** Gaussian elimination with partial pivoting on the full matrix: slow, plain, independent. */
function denseSolve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = col + 1; r < n; r++) {
      const f = m[r]![col]! / m[col]![col]!;
      for (let c = col; c <= n; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let c = r + 1; c < n; c++) s -= m[r]![c]! * x[c]!;
    x[r] = s / m[r]![r]!;
  }
  return x;
}

describe('solveTridiagonal', () => {
  it('solves a small system exactly', () => {
    // [2 -1 0; -1 2 -1; 0 -1 2] x = [1 0 1] → x = [1 1 1]
    const x = solveTridiagonal(Float64Array.of(2, 2, 2), Float64Array.of(-1, -1), Float64Array.of(1, 0, 1));
    expect([...x].map((v) => Number(v.toFixed(12)))).toEqual([1, 1, 1]);
    expect([...solveTridiagonal(Float64Array.of(4), new Float64Array(0), Float64Array.of(2))]).toEqual([0.5]);
    expect(solveTridiagonal(new Float64Array(0), new Float64Array(0), new Float64Array(0))).toHaveLength(0);
  });

  it('agrees with a dense solve on diagonally dominant systems (the normal equations it serves)', () => {
    const system = fc.integer({ min: 1, max: 30 }).chain((n) =>
      fc.record({
        off: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: n - 1, maxLength: n - 1 }),
        extra: fc.array(fc.double({ min: 0.01, max: 10, noNaN: true }), { minLength: n, maxLength: n }),
        rhs: fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: n, maxLength: n }),
      }),
    );
    fc.assert(
      fc.property(system, ({ off, extra, rhs }) => {
        const n = rhs.length;
        const diag = extra.map((e, i) => e + Math.abs(off[i - 1] ?? 0) + Math.abs(off[i] ?? 0));
        const a = Array.from({ length: n }, (_, i) =>
          Array.from({ length: n }, (_, j) => (i === j ? diag[i]! : j === i + 1 ? off[i]! : i === j + 1 ? off[j]! : 0)),
        );
        const expected = denseSolve(a, rhs);
        const got = solveTridiagonal(Float64Array.from(diag), Float64Array.from(off), Float64Array.from(rhs));
        return expected.every((v, i) => Math.abs(v - got[i]!) <= 1e-8 * Math.max(1, Math.abs(v)));
      }),
    );
  });

  it('refuses arrays of the wrong lengths', () => {
    expect(() => solveTridiagonal(new Float64Array(3), new Float64Array(3), new Float64Array(3))).toThrow(RangeError);
  });
});
