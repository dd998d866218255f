/**
 * Solves a symmetric tridiagonal system A·x = rhs (the Thomas algorithm), where A has
 * `diag` on its diagonal and `off[i]` at (i, i+1) and (i+1, i). O(n), no pivoting: the
 * systems solved here are diagonally dominant (normal equations of a least-squares fit
 * with a positive weight on every unknown), for which that is stable. Pure.
 */
export function solveTridiagonal(diag: Float64Array, off: Float64Array, rhs: Float64Array): Float64Array {
  const n = diag.length;
  if (rhs.length !== n || off.length !== Math.max(0, n - 1))
    throw new RangeError('tridiagonal system: diag and rhs need n entries, off n − 1');
  const x = new Float64Array(n);
  if (n === 0) return x;
  const c = new Float64Array(n);
  const d = new Float64Array(n);
  c[0] = n > 1 ? off[0]! / diag[0]! : 0;
  d[0] = rhs[0]! / diag[0]!;
  for (let i = 1; i < n; i++) {
    const denom = diag[i]! - off[i - 1]! * c[i - 1]!;
    c[i] = i < n - 1 ? off[i]! / denom : 0;
    d[i] = (rhs[i]! - off[i - 1]! * d[i - 1]!) / denom;
  }
  x[n - 1] = d[n - 1]!;
  for (let i = n - 2; i >= 0; i--) x[i] = d[i]! - c[i]! * x[i + 1]!;
  return x;
}
