/** Robust statistics on sensor readings: medians, the interquartile mean, a level that survives end stops. Pure. */

/** Median of a[lo..hi] (inclusive) without changing `a`; `scratch` must be at least as long. */
export function medianOf(a: Float64Array, lo: number, hi: number, scratch: Float64Array): number {
  const n = hi - lo + 1;
  for (let i = 0; i < n; i++) scratch[i] = a[lo + i]!;
  const mid = n >> 1;
  const lower = quickselect(scratch, 0, n - 1, mid);
  if (n % 2 === 1) return lower;
  let maxBelow = -Infinity;
  for (let i = 0; i < mid; i++) if (scratch[i]! > maxBelow) maxBelow = scratch[i]!;
  return (lower + maxBelow) / 2;
}

/** k-th smallest of a[lo..hi]; partially reorders a. */
export function quickselect(a: Float64Array, lo: number, hi: number, k: number): number {
  while (hi > lo) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const tmp = a[i]!;
        a[i] = a[j]!;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/**
 * The level of a set of readings (indexes into `values`): the mean of the middle half,
 * as robust as the median here and not stuck on the sensor's 0.1 L steps — or the median
 * when the sensor sat at its end stop for some of them (a full tank reads "full" however
 * the noise falls, which would pull a mean down; the median stays right).
 */
export function robustLevel(indexes: readonly number[], values: Float64Array, censored: Uint8Array): number {
  let stuck = 0;
  for (const k of indexes) stuck += censored[k]!;
  const picked = indexes.map((k) => values[k]!);
  if (stuck > 0.05 * indexes.length) {
    const a = Float64Array.from(picked);
    return medianOf(a, 0, a.length - 1, new Float64Array(a.length));
  }
  return interquartileMean(picked);
}

/** Mean of the middle half: as robust as the median here, and not stuck on the sensor's 0.1 L steps. */
export function interquartileMean(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const lo = Math.floor(sorted.length / 4);
  const hi = Math.max(lo + 1, sorted.length - lo);
  let sum = 0;
  for (let i = lo; i < hi; i++) sum += sorted[i]!;
  return sum / (hi - lo);
}

export function pointAtOrBefore(t: Float64Array, ms: number): number {
  let lo = 0;
  let hi = t.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! <= ms) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}
