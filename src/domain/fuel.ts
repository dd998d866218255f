/**
 * Fuel: how much a vehicle used, and when fuel went into or out of its tank. Pure.
 *
 * Three sources, best first (docs/analytics.md, "Fuel"):
 *  - counter: the engine's cumulative fuel counter (CAN `fuelUsedLitres`): the sum of
 *    its increments; a counter that goes backwards (an ECU reset) adds nothing;
 *  - sensor: the tank level (`fuelLitres`, or `fuelPercent` × tank), smoothed, with
 *    refuels and drains taken out (below);
 *  - rated: rated L/100 km × distance + idle L/h × idle hours.
 *
 * The level sensor, unlike Traccar's first-minus-last reading:
 *  1. Smoothing. A running median over `smoothingS` (and at least five readings) takes
 *     out noise and slosh spikes yet keeps the edges of a refuel, which a mean would blur.
 *  2. A residual that should stay flat: the smoothed level plus the litres the rated
 *     figures say were burnt so far. Driving makes the level fall; it does not make the
 *     residual fall, so a fall of the residual is fuel that driving does not explain.
 *  3. Steps. At every reading, the median residual over `stepWindowS` after it minus the
 *     median over the same time before it. A run of large rises is a refuel, of large
 *     falls a drain; the extent of each is where the residual leaves the level before
 *     and reaches the level after, and its volume is re-measured from the readings
 *     outside that extent (those taken standing, when there are enough).
 *  4. Conditions. A refuel must happen standing; a drain may happen standing or moving
 *     (the residual already allows for what driving burns). Both must reach a threshold
 *     that scales with the tank: max(litres, percent of the tank). Events of one kind
 *     closer than `mergeGapS` are one event (a pump stopped and restarted).
 *  5. Litres used between two instants: for each stretch with the engine running, the level
 *     before it minus the level after it (corrected for the events, so it only falls by
 *     burning); the engine does not burn fuel while it is off, so noise, refuels and drains
 *     in parked time never reach this. The levels are fitted together (sensorUsedLitres):
 *     a parked stretch's level is one unknown shared by the runs either side, so errors
 *     cancel, and it is measured by the many calm readings taken parked, by the readings
 *     taken driving (allowing for what the rated figures burn), and, where readings are few
 *     (a pump), by the rated figures calibrated on the day's well-measured runs. A refuel or
 *     a drain never makes consumption negative, and an error in the volume of one that
 *     happened parked does not reach it.
 */
import type { Track } from './trips.js';

export interface FuelSettings {
  refuelMinLitres: number;
  refuelMinTankPercent: number;
  drainMinLitres: number;
  drainMinTankPercent: number;
  /** Refuels (or drains) closer than this are merged into one. */
  mergeGapS: number;
  /** Width of the running median. */
  smoothingS: number;
  /** How long before and after a reading its level step is measured over. */
  stepWindowS: number;
}

export const DEFAULT_FUEL_SETTINGS: FuelSettings = Object.freeze({
  refuelMinLitres: 4,
  refuelMinTankPercent: 4,
  drainMinLitres: 3,
  drainMinTankPercent: 3,
  mergeGapS: 600,
  smoothingS: 120,
  stepWindowS: 300,
});

export interface VehicleFuelSpec {
  tankCapacityLitres: number;
  ratedLitresPer100Km: number;
  idleLitresPerHour: number;
}

export type FuelSource = 'counter' | 'sensor' | 'rated';

export interface FuelEvent {
  kind: 'refuel' | 'drain';
  /** When the level began to change. */
  atMs: number;
  endMs: number;
  lat: number;
  lon: number;
  /** Always positive: litres put in (refuel) or taken out (drain). */
  litres: number;
  levelBeforeLitres: number;
  levelAfterLitres: number;
  /** True when the vehicle was driving while it happened (drains only). */
  moving: boolean;
}

export const refuelThresholdLitres = (s: FuelSettings, tankLitres: number) => Math.max(s.refuelMinLitres, (s.refuelMinTankPercent / 100) * tankLitres);
export const drainThresholdLitres = (s: FuelSettings, tankLitres: number) => Math.max(s.drainMinLitres, (s.drainMinTankPercent / 100) * tankLitres);

/** Fewer readings than this on a side make a level too uncertain to judge a step by. */
const MIN_SIDE_POINTS = 3;
const MIN_SMOOTHING_POINTS = 5;
/** Moving readings this far apart are taken to slosh independently. */
const MOVING_LAG_MS = 60_000;
/** Edge estimates look this far from the instant. */
const EDGE_WINDOW_MS = 300_000;

/**
 * Interval i (from reading i-1 to reading i) is idle when the engine ran and the wheels
 * stood at reading i-1; intervals across a data gap count for nothing.
 */
export function cumulativeIdleS(track: Track, minGapS: number): Float64Array {
  const out = new Float64Array(track.n);
  const gapMs = minGapS * 1000;
  for (let i = 1; i < track.n; i++) {
    const dt = track.t[i]! - track.t[i - 1]!;
    const idle = dt < gapMs && track.engineOn[i - 1] === 1 && track.moving[i - 1] === 0;
    out[i] = out[i - 1]! + (idle ? dt / 1000 : 0);
  }
  return out;
}

/** Median of a[lo..hi] (inclusive) without changing `a`; `scratch` must be at least as long. */
function medianOf(a: Float64Array, lo: number, hi: number, scratch: Float64Array): number {
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
function quickselect(a: Float64Array, lo: number, hi: number, k: number): number {
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

/** The level sensor's readings, smoothed and corrected, with the refuels and drains found in them. */
export interface LevelModel {
  /** Sensor point → track index. */
  readonly trackIndex: Int32Array;
  readonly t: Float64Array;
  readonly raw: Float64Array;
  readonly smoothed: Float64Array;
  /** Smoothed level plus litres burnt so far by the rated figures. */
  readonly residual: Float64Array;
  /** The same for the raw levels. */
  readonly rawResidual: Float64Array;
  /** 1 where the sensor sat at its end stop (full or empty). */
  readonly censored: Uint8Array;
  /** The sensor's noise on a standing vehicle (robust σ from consecutive readings), litres. */
  readonly noiseSigmaLitres: number;
  /** The same on a moving vehicle (noise and slosh), litres. */
  readonly movingSigmaLitres: number;
  /** Which stretch between events a point lies in; levels are never compared across events. */
  readonly stretch: Int32Array;
  /** Track index → sensor point, or -1. */
  readonly pointAtTrack: Int32Array;
  readonly standing: Uint8Array;
  /** Expected cumulative litres at each track index (rated figures). */
  readonly expectedAtTrack: Float64Array;
  readonly events: readonly FuelEvent[];
}

/** The tank level of a reading in litres, from the sensor in litres or in percent. */
export function levelLitres(r: { fuelLitres: number | null; fuelPercent: number | null }, tankLitres: number): number | null {
  if (r.fuelLitres !== null && Number.isFinite(r.fuelLitres)) return r.fuelLitres;
  if (r.fuelPercent !== null && Number.isFinite(r.fuelPercent)) return (r.fuelPercent * tankLitres) / 100;
  return null;
}

/** Builds the level model, or answers null when the track has no level readings. */
export function buildLevelModel(track: Track, vehicle: VehicleFuelSpec, settings: FuelSettings, minGapS: number): LevelModel | null {
  const cap = vehicle.tankCapacityLitres;
  const idx: number[] = [];
  const levels: number[] = [];
  for (let i = 0; i < track.n; i++) {
    const level = levelLitres(track.readings[i]!, cap);
    if (level === null || level < -0.05 * cap || level > 1.1 * cap) continue;
    idx.push(i);
    levels.push(level);
  }
  const m = idx.length;
  if (m === 0) return null;
  const trackIndex = Int32Array.from(idx);
  const t = new Float64Array(m);
  const raw = Float64Array.from(levels);
  const standing = new Uint8Array(m);
  for (let k = 0; k < m; k++) {
    t[k] = track.t[idx[k]!]!;
    standing[k] = track.moving[idx[k]!] === 1 ? 0 : 1;
  }

  const idleS = cumulativeIdleS(track, minGapS);
  const expectedAtTrack = new Float64Array(track.n);
  for (let i = 0; i < track.n; i++) {
    expectedAtTrack[i] = (vehicle.ratedLitresPer100Km * track.cumM[i]!) / 100_000 + (vehicle.idleLitresPerHour * idleS[i]!) / 3600;
  }

  const scratch = new Float64Array(m);
  const smoothed = new Float64Array(m);
  const halfMs = (settings.smoothingS * 1000) / 2;
  const halfPts = MIN_SMOOTHING_POINTS >> 1;
  let lo = 0;
  let hi = 0;
  for (let k = 0; k < m; k++) {
    while (t[k]! - t[lo]! > halfMs) lo++;
    if (hi < k) hi = k;
    while (hi + 1 < m && t[hi + 1]! - t[k]! <= halfMs) hi++;
    smoothed[k] = medianOf(raw, Math.max(0, Math.min(lo, k - halfPts)), Math.min(m - 1, Math.max(hi, k + halfPts)), scratch);
  }
  const residual = new Float64Array(m);
  for (let k = 0; k < m; k++) residual[k] = smoothed[k]! + expectedAtTrack[idx[k]!]!;

  const rawResidual = new Float64Array(m);
  const censored = new Uint8Array(m);
  for (let k = 0; k < m; k++) {
    rawResidual[k] = raw[k]! + expectedAtTrack[idx[k]!]!;
    censored[k] = raw[k]! >= cap - 1e-6 || raw[k]! <= 1e-6 ? 1 : 0;
  }
  const events = detectEvents(track, vehicle, settings, { settings, stepLitres: Math.min(refuelThresholdLitres(settings, cap), drainThresholdLitres(settings, cap)), t, censored, residual, rawResidual, standing, trackIndex, expectedAtTrack }, scratch);

  const sorted = [...events].sort((a, b) => a.atMs - b.atMs);
  const stretch = new Int32Array(m);
  for (let k = 0, e = 0; k < m; k++) {
    while (e < sorted.length && sorted[e]!.endMs <= t[k]!) e++;
    stretch[k] = e;
  }
  const pointAtTrack = new Int32Array(track.n).fill(-1);
  for (let k = 0; k < m; k++) pointAtTrack[idx[k]!] = k;

  // The noise from the differences of consecutive readings (the level barely moves in
  // between), standing and moving apart: robust σ of the difference over √2. (The spread
  // around the running median would understate it: each reading pulls its own median.)
  const standingDiffs: number[] = [];
  const movingDiffs: number[] = [];
  for (let k = 1; k < m; k++) {
    if (!standing[k] || !standing[k - 1] || t[k]! - t[k - 1]! > 5 * 60_000 || censored[k] || censored[k - 1]) continue;
    standingDiffs.push(Math.abs(raw[k]! - raw[k - 1]!));
  }
  // Slosh lasts (a braking, a turn): moving readings are compared with the one a minute
  // later, with what the rated figures burn in between taken out.
  for (let k = 0, l = 0; k < m; k++) {
    if (standing[k] || censored[k]) continue;
    if (l <= k) l = k + 1;
    while (l < m && t[l]! - t[k]! < MOVING_LAG_MS) l++;
    if (l >= m || t[l]! - t[k]! > 1.5 * MOVING_LAG_MS || standing[l] || censored[l]) continue;
    movingDiffs.push(Math.abs(rawResidual[l]! - rawResidual[k]!));
  }
  const robustSigma = (diffs: number[], fallback: number) => {
    if (diffs.length < 10) return fallback;
    diffs.sort((x, y) => x - y);
    return (1.4826 * diffs[diffs.length >> 1]!) / Math.SQRT2;
  };
  const noiseSigmaLitres = Math.max(0.05, robustSigma(standingDiffs, 0.3));
  const movingSigmaLitres = Math.max(noiseSigmaLitres, robustSigma(movingDiffs, 2 * noiseSigmaLitres));

  return { trackIndex, t, raw, smoothed, residual, rawResidual, censored, noiseSigmaLitres, movingSigmaLitres, stretch, pointAtTrack, standing, expectedAtTrack, events: sorted };
}

interface StepInput {
  settings: FuelSettings;
  /** The smaller of the refuel and drain thresholds for this tank. */
  stepLitres: number;
  t: Float64Array;
  /** 1 where the sensor sat at its end stop (full or empty): the true level may lie beyond. */
  censored: Uint8Array;
  residual: Float64Array;
  /** The same for the raw (unsmoothed) levels: volumes are measured on these. */
  rawResidual: Float64Array;
  standing: Uint8Array;
  trackIndex: Int32Array;
  expectedAtTrack: Float64Array;
}

/** Median residual of the points in [fromMs, toMs] (by index range), preferring standing ones. */
function sideLevel(s: StepInput, loK: number, hiK: number, scratch: Float64Array, preferStanding = true): number | null {
  if (hiK < loK) return null;
  const all: number[] = [];
  const standingOnes: number[] = [];
  for (let k = loK; k <= hiK; k++) {
    all.push(k);
    if (s.standing[k]) standingOnes.push(k);
  }
  void scratch;
  return robustLevel(preferStanding && standingOnes.length >= MIN_SIDE_POINTS ? standingOnes : all, s.rawResidual, s.censored);
}

function detectEvents(track: Track, vehicle: VehicleFuelSpec, settings: FuelSettings, s: StepInput, scratch: Float64Array): FuelEvent[] {
  const { t, residual } = s;
  const m = t.length;
  const windowMs = settings.stepWindowS * 1000;
  const refuelMin = refuelThresholdLitres(settings, vehicle.tankCapacityLitres);
  const drainMin = drainThresholdLitres(settings, vehicle.tankCapacityLitres);

  // The step at k: median after (k and later) minus median before (earlier than k).
  const step = new Float64Array(m).fill(NaN);
  const quietLitres = Math.min(refuelMin, drainMin) / 3;
  let lo = 0;
  let hi = 0;
  for (let k = 1; k < m; k++) {
    while (t[k]! - t[lo]! > windowMs) lo++;
    if (hi < k) hi = k;
    while (hi + 1 < m && t[hi + 1]! - t[k]! < windowMs) hi++;
    const beforeLo = Math.min(lo, k - MIN_SIDE_POINTS);
    const afterHi = Math.max(hi, k + MIN_SIDE_POINTS - 1);
    if (beforeLo < 0 || afterHi >= m) continue;
    // Most of a day the smoothed level barely moves across the window: no step can hide there,
    // and the two medians (the costly part) are skipped.
    if (Math.abs(residual[afterHi]! - residual[beforeLo]!) < quietLitres && Math.abs(residual[k]! - residual[beforeLo]!) < quietLitres && Math.abs(residual[afterHi]! - residual[k]!) < quietLitres) {
      step[k] = 0;
      continue;
    }
    step[k] = medianOf(residual, k, afterHi, scratch) - medianOf(residual, beforeLo, k - 1, scratch);
  }

  const candidates: FuelEvent[] = [];
  // The last point of the previous event: a later event's extent never reaches back past it.
  let barrier = 0;
  let k = 1;
  while (k < m) {
    const j = step[k]!;
    const sign = j >= refuelMin ? 1 : j <= -drainMin ? -1 : 0;
    if (sign === 0 || Number.isNaN(j)) {
      k++;
      continue;
    }
    // The run of large steps of this sign, and its strongest point.
    const threshold = (sign > 0 ? refuelMin : drainMin) / 2;
    let peak = k;
    let end = k;
    while (end + 1 < m && !Number.isNaN(step[end + 1]!) && sign * step[end + 1]! >= threshold) {
      end++;
      if (sign * step[end]! > sign * step[peak]!) peak = end;
    }
    const ev = measureEvent(track, vehicle, s, peak, sign, windowMs, scratch, barrier);
    if (ev) candidates.push(ev);
    // Continue after the event, or after the run if the event was not kept.
    let next = end + 1;
    if (ev) {
      while (next < m && t[next]! <= ev.endMs) next++;
      barrier = Math.max(barrier, next - 1);
    }
    k = Math.max(next, k + 1);
  }

  const merged = mergeEvents(candidates, track, vehicle, settings, s, windowMs, scratch);
  return merged.filter((ev) => ev.litres >= (ev.kind === 'refuel' ? refuelMin : drainMin) && (ev.kind === 'drain' || !ev.moving));
}

/** Extent and volume of the step whose strongest point is `peak`. */
function measureEvent(track: Track, vehicle: VehicleFuelSpec, s: StepInput, peak: number, sign: number, windowMs: number, scratch: Float64Array, barrier = 0): FuelEvent | null {
  const { t, residual } = s;
  const m = t.length;
  // All readings here, standing or not: a few parked ones next to the peak may be halfway.
  let before = sideLevelInTime(s, t[peak]! - windowMs, peak - 1, scratch, 'before', false);
  let after = sideLevelInTime(s, t[peak]! + windowMs, peak, scratch, 'after', false);
  if (before === null || after === null) return null;
  const raw = s.rawResidual;
  let startK = peak - 1;
  let endK = peak;
  // A slow change (a siphon) outlasts the window: widen the extent until the levels
  // measured outside it stop moving.
  for (let round = 0; round < 8; round++) {
    const delta = after - before;
    if (sign * delta <= 0) return null;
    // Where the residual leaves the level before, and where it reaches the level after.
    let a = startK;
    while (a > barrier && sign * (residual[a]! - before) > 0.1 * Math.abs(delta)) a--;
    let b = endK;
    while (b < m - 1 && sign * (after - residual[b]!) > 0.1 * Math.abs(delta)) b++;
    // The smoothing can hide a reading taken halfway through (sparse parked readings): the
    // raw readings at the edges must sit at the old and new levels.
    while (a > barrier && sign * (raw[a]! - before) > 0.25 * Math.abs(delta)) a--;
    while (b < m - 1 && sign * (after - raw[b]!) > 0.25 * Math.abs(delta)) b++;
    const newBefore = sideLevelInTime(s, t[a]! - windowMs, a, scratch, 'before', false);
    const newAfter = sideLevelInTime(s, t[b]! + windowMs, b, scratch, 'after', false);
    const settled = a === startK && b === endK;
    startK = a;
    endK = b;
    if (settled || newBefore === null || newAfter === null) break;
    before = newBefore;
    after = newAfter;
  }
  const refined = fitRamp(s, startK, endK, peak, before, after, Math.min(refuelThresholdLitres(s.settings, vehicle.tankCapacityLitres), drainThresholdLitres(s.settings, vehicle.tankCapacityLitres)), barrier);
  return eventBetween(track, vehicle, s, refined.startK, refined.endK, windowMs, scratch);
}

const RAMP_FIT_REACH_MS = 30 * 60_000;
/** A reading this close to a level (or 5 % of the step, if more) sits at that level. */
const EDGE_TOLERANCE_LITRES = 1.5;

/**
 * Where exactly the level left its old value and reached its new one: the least-squares
 * fit of "flat, then a straight ramp, then flat" to the raw residual around the event.
 * Thresholds on a slow ramp (a siphon at two litres a minute) stop short of its ends;
 * the fit does not.
 */
function fitRamp(s: StepInput, startK: number, endK: number, peak: number, before: number, after: number, stepLitres: number, barrier = 0): { startK: number; endK: number } {
  const { t, rawResidual: r, residual } = s;
  const m = t.length;
  // The fit reaches out half an hour, but not past another change of level (a drain and
  // the refill that hides it, minutes apart): the flat parts stay near the levels either side.
  // (The levels either side are first guesses, taken over minutes that may still hold part
  // of a slow ramp: allow a good share of the step itself.)
  const reach = Math.max(stepLitres / 2, 0.3 * Math.abs(after - before));
  let lo = startK;
  while (lo > barrier && t[startK]! - t[lo - 1]! <= RAMP_FIT_REACH_MS && Math.abs(residual[lo - 1]! - before) <= reach) lo--;
  let hi = endK;
  while (hi < m - 1 && t[hi + 1]! - t[endK]! <= RAMP_FIT_REACH_MS && Math.abs(residual[hi + 1]! - after) <= reach) hi++;
  if (hi - lo < 2 * MIN_SIDE_POINTS) return { startK, endK };
  // Prefix sums for the flat parts.
  const n = hi - lo + 1;
  const sum = new Float64Array(n + 1);
  const sq = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) {
    sum[k + 1] = sum[k]! + r[lo + k]!;
    sq[k + 1] = sq[k]! + r[lo + k]! ** 2;
  }
  const flat = (a: number, b: number) => {
    // SSE and mean of r[lo+a .. lo+b-1].
    const cnt = b - a;
    if (cnt <= 0) return { sse: 0, mean: NaN };
    const mu = (sum[b]! - sum[a]!) / cnt;
    return { sse: sq[b]! - sq[a]! - cnt * mu * mu, mean: mu };
  };
  let best = { sse: Infinity, i: startK, j: endK };
  // i: last point at the old level; j: first point at the new one.
  const iMax = Math.min(peak, hi - MIN_SIDE_POINTS);
  for (let i = Math.max(lo + MIN_SIDE_POINTS - 1, lo); i <= iMax; i++) {
    const left = flat(0, i - lo + 1);
    for (let j = Math.max(i + 1, peak); j <= hi - MIN_SIDE_POINTS + 1; j++) {
      const right = flat(j - lo, n);
      let sse = left.sse + right.sse;
      if (sse >= best.sse) continue;
      const span = t[j]! - t[i]!;
      for (let k = i + 1; k < j && sse < best.sse; k++) {
        const line = left.mean + ((right.mean - left.mean) * (t[k]! - t[i]!)) / span;
        sse += (r[k]! - line) ** 2;
      }
      if (sse < best.sse) best = { sse, i, j };
    }
  }
  // A lone reading caught halfway (sparse parked readings) can sit on either flat part of
  // the fit: the readings at the edges must be near the old and new levels.
  let i = best.i;
  let j = best.j;
  const oldLevel = flat(0, i - lo + 1).mean;
  const newLevel = flat(j - lo, n).mean;
  const tolerance = Math.max(0.05 * Math.abs(newLevel - oldLevel), EDGE_TOLERANCE_LITRES);
  while (i > lo && Math.abs(r[i]! - oldLevel) > tolerance) i--;
  while (j < hi && Math.abs(r[j]! - newLevel) > tolerance) j++;
  return { startK: i, endK: j };
}

/** Median residual of up to `windowMs` of points on one side of index `edge` (inclusive). */
function sideLevelInTime(s: StepInput, limitMs: number, edge: number, scratch: Float64Array, side: 'before' | 'after', preferStanding = true): number | null {
  const m = s.t.length;
  let lo: number;
  let hi: number;
  if (side === 'before') {
    if (edge < 0) return null;
    lo = edge;
    while (lo > 0 && s.t[lo - 1]! >= limitMs) lo--;
    lo = Math.max(0, Math.min(lo, edge - MIN_SIDE_POINTS + 1));
    hi = edge;
  } else {
    if (edge >= m) return null;
    hi = edge;
    while (hi < m - 1 && s.t[hi + 1]! <= limitMs) hi++;
    hi = Math.min(m - 1, Math.max(hi, edge + MIN_SIDE_POINTS - 1));
    lo = edge;
  }
  const level = sideLevel(s, lo, hi, scratch, preferStanding);
  if (!preferStanding || level === null) return level;
  // Measuring an event's own side: keep to the readings near that side's level, so a
  // drain minutes before a refill does not leak into the refill's level before.
  const keep: number[] = [];
  const keepStanding: number[] = [];
  for (let k = lo; k <= hi; k++) {
    if (Math.abs(s.residual[k]! - level) > s.stepLitres / 2) continue;
    keep.push(k);
    if (s.standing[k]) keepStanding.push(k);
  }
  if (keep.length < MIN_SIDE_POINTS) return level;
  return robustLevel(keepStanding.length >= MIN_SIDE_POINTS ? keepStanding : keep, s.rawResidual, s.censored);
}

/**
 * The level on one side of an event from every standing reading there (up to three
 * hours, until the vehicle moves or the level steps again), not just the last minutes:
 * a drain at night has hours of calm parked readings on both sides.
 */
function standingLevel(s: StepInput, edge: number, dir: -1 | 1, near: number | null, stepLitres: number): number | null {
  if (near === null) return null;
  const values: number[] = [];
  const edgeT = s.t[edge]!;
  for (let k = edge; k >= 0 && k < s.t.length; k += dir) {
    if (!s.standing[k] || Math.abs(s.t[k]! - edgeT) > PLATEAU_REACH_MS) break;
    if (Math.abs(s.residual[k]! - near) > stepLitres / 2) break;
    values.push(k);
  }
  return values.length >= MIN_SIDE_POINTS ? robustLevel(values, s.rawResidual, s.censored) : near;
}

/** An event from point startK (last at the old level) to endK (first at the new one), volume re-measured outside it. */
function eventBetween(track: Track, vehicle: VehicleFuelSpec, s: StepInput, startK: number, endK: number, windowMs: number, scratch: Float64Array): FuelEvent | null {
  const { t } = s;
  const stepLitres = Math.min(refuelThresholdLitres(s.settings, vehicle.tankCapacityLitres), drainThresholdLitres(s.settings, vehicle.tankCapacityLitres));
  const before = standingLevel(s, startK, -1, sideLevelInTime(s, t[startK]! - windowMs, startK, scratch, 'before'), stepLitres);
  const after = standingLevel(s, endK, 1, sideLevelInTime(s, t[endK]! + windowMs, endK, scratch, 'after'), stepLitres);
  if (before === null || after === null) return null;
  const delta = after - before;
  const kind = delta > 0 ? 'refuel' : 'drain';
  let movingN = 0;
  let total = 0;
  const i0 = s.trackIndex[startK]!;
  const i1 = s.trackIndex[endK]!;
  for (let i = i0; i <= i1; i++) {
    total++;
    if (track.moving[i]) movingN++;
  }
  // The level before and after in litres, not in residual: take the burnt litres back out.
  const levelBefore = before - s.expectedAtTrack[i0]!;
  const levelAfter = after - s.expectedAtTrack[i1]!;
  // Where the change began: the first point past the old level.
  const at = Math.min(endK, startK + 1);
  const atIdx = s.trackIndex[at]!;
  return {
    kind,
    atMs: t[at]!,
    endMs: t[endK]!,
    lat: track.lat[atIdx]!,
    lon: track.lon[atIdx]!,
    litres: Math.abs(delta),
    levelBeforeLitres: Math.min(vehicle.tankCapacityLitres, Math.max(0, levelBefore)),
    levelAfterLitres: Math.min(vehicle.tankCapacityLitres, Math.max(0, levelAfter)),
    moving: total > 0 && movingN / total > 0.5,
  };
}

function pointAtOrBefore(t: Float64Array, ms: number): number {
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

function mergeEvents(events: FuelEvent[], track: Track, vehicle: VehicleFuelSpec, settings: FuelSettings, s: StepInput, windowMs: number, scratch: Float64Array): FuelEvent[] {
  const sorted = [...events].sort((a, b) => a.atMs - b.atMs);
  const out: FuelEvent[] = [];
  for (const ev of sorted) {
    const last = out[out.length - 1];
    if (last && last.kind === ev.kind && ev.atMs - last.endMs <= settings.mergeGapS * 1000) {
      const startK = Math.max(0, pointAtOrBefore(s.t, last.atMs) - 1);
      const endK = Math.max(startK, pointAtOrBefore(s.t, ev.endMs));
      const joined = eventBetween(track, vehicle, s, startK, endK, windowMs, scratch);
      if (joined && joined.kind === ev.kind) {
        out[out.length - 1] = { ...joined, atMs: last.atMs, lat: last.lat, lon: last.lon };
        continue;
      }
    }
    if (last && ev.atMs < last.endMs) {
      // Overlapping steps of opposite sign: keep the larger.
      if (ev.litres > last.litres) out[out.length - 1] = ev;
      continue;
    }
    out.push(ev);
  }
  return out;
}

const PLATEAU_REACH_MS = 3 * 3600_000;

/** Number of events that ended at or before `ms`, and whether `ms` lies inside one. */
function stretchOf(events: readonly FuelEvent[], ms: number): { id: number; inside: boolean } {
  let id = 0;
  let inside = false;
  for (const ev of events) {
    if (ev.endMs <= ms) id++;
    else if (ev.atMs <= ms) inside = true;
  }
  return { id, inside };
}

/**
 * The tank level where a standing, engine-off stretch meets an engine run: the median
 * raw level of that stretch's readings within three hours of `edge` (track index), walking
 * away from the run in direction `dir`, staying in stretch `stretchId` (between the same
 * refuels and drains). Parked readings are many and calm, so the level there is the
 * best measured of the day.
 */
function plateauLevel(model: LevelModel, track: Track, edge: number, dir: -1 | 1, stretchId: number): { level: number; points: number } | null {
  const edgeT = track.t[edge]!;
  const values: number[] = [];
  for (let i = edge; i >= 0 && i < track.n; i += dir) {
    if (track.engineOn[i] || track.moving[i]) break;
    if (Math.abs(track.t[i]! - edgeT) > PLATEAU_REACH_MS) break;
    const here = stretchOf(model.events, track.t[i]!);
    if (here.inside) {
      if (values.length > 0) break;
      continue;
    }
    if (here.id !== stretchId) {
      if (values.length > 0 || (dir < 0 ? here.id < stretchId : here.id > stretchId)) break;
      continue;
    }
    const k = model.pointAtTrack[i]!;
    if (k >= 0) values.push(k);
  }
  // Too few to trust (a lone reading may be caught halfway through a refuel).
  if (values.length < MIN_SIDE_POINTS) return null;
  return { level: robustLevel(values, model.raw, model.censored), points: values.length };
}

/**
 * The level of a set of readings (indexes into `values`): the mean of the middle half,
 * as robust as the median here and not stuck on the sensor's 0.1 L steps — or the median
 * when the sensor sat at its end stop for some of them (a full tank reads "full" however
 * the noise falls, which would pull a mean down; the median stays right).
 */
function robustLevel(indexes: readonly number[], values: Float64Array, censored: Uint8Array): number {
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
function interquartileMean(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const lo = Math.floor(sorted.length / 4);
  const hi = Math.max(lo + 1, sorted.length - lo);
  let sum = 0;
  for (let i = lo; i < hi; i++) sum += sorted[i]!;
  return sum / (hi - lo);
}

/**
 * The level at `ms` in stretch `stretchId`, for an instant inside an engine run (or next
 * to an event): the median, over that stretch's readings within five minutes (standing
 * ones when there are enough), of each reading's level moved to `ms` by what the rated
 * figures burn in between.
 */
export function levelNear(model: LevelModel, track: Track, ms: number, stretchId = stretchOf(model.events, ms).id): number | null {
  return levelNearCounted(model, track, ms, stretchId)?.level ?? null;
}

function levelNearCounted(model: LevelModel, track: Track, ms: number, stretchId: number): { level: number; points: number } | null {
  const { t } = model;
  const m = t.length;
  if (m === 0) return null;
  const pick: number[] = [];
  const standingPick: number[] = [];
  for (let k = pointAtOrBefore(t, ms + EDGE_WINDOW_MS); k >= 0 && t[k]! >= ms - EDGE_WINDOW_MS; k--) {
    const s = stretchOf(model.events, t[k]!);
    if (s.id !== stretchId || s.inside) continue;
    pick.push(k);
    if (model.standing[k]) standingPick.push(k);
  }
  if (pick.length === 0) {
    // Nothing near: the nearest reading of the stretch.
    let best = -1;
    for (let j = 0; j < m; j++) {
      const s = stretchOf(model.events, t[j]!);
      if (s.id !== stretchId || s.inside) continue;
      if (best < 0 || Math.abs(t[j]! - ms) < Math.abs(t[best]! - ms)) best = j;
    }
    if (best < 0) return null;
    pick.push(best);
  }
  const use = standingPick.length >= MIN_SIDE_POINTS ? standingPick : pick;
  const expectedHere = model.expectedAtTrack[Math.max(0, pointAtOrBefore(track.t, ms))]!;
  // Readings taken moving count for less: slosh adds to their noise.
  const points = use === standingPick ? use.length : Math.max(1, use.length / 3);
  return { level: robustLevel(use, model.rawResidual, model.censored) - expectedHere, points };
}

interface RunEdge {
  level: number;
  /** Readings behind the level (moving ones count for a third). */
  points: number;
}

interface EngineRun {
  /** The run, cut to the window asked about. */
  s: number;
  e: number;
  /** The stretches (between events) its edges lie in. */
  startStretch: number;
  endStretch: number;
  start: RunEdge;
  end: RunEdge;
  /** Refuels minus drains that ended during it. */
  eventLitres: number;
  /** Variance of `eventLitres`, litres². */
  eventVariance: number;
  /** Level before minus level after, plus refuels and minus drains during it. */
  measured: number;
  /** What the rated figures say it burnt. */
  rated: number;
  /** Both levels pinned by calm parked readings and no event inside: a run to calibrate by. */
  clean: boolean;
}

/** Parked readings at an edge needed for the edge to count as well measured. */
const CLEAN_EDGE_POINTS = 8;

function engineRuns(model: LevelModel, track: Track, fromMs: number, toMs: number, minGapS: number): EngineRun[] {
  const { t } = track;
  const gapMs = minGapS * 1000;
  const first = Math.max(0, pointAtOrBefore(t, fromMs));
  const last = Math.min(track.n - 1, pointAtOrBefore(t, toMs) + 1);
  const active = (i: number) => track.engineOn[i] === 1 || track.moving[i] === 1;
  const expectedAt = (ms: number) => model.expectedAtTrack[Math.max(0, pointAtOrBefore(t, ms))]!;
  const runs: EngineRun[] = [];
  let i = first;
  while (i <= last) {
    if (!active(i)) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < track.n && active(j + 1) && t[j + 1]! - t[j]! < gapMs) j++;
    const before = i > 0 && t[i]! - t[i - 1]! < gapMs ? i - 1 : -1;
    const after = j + 1 < track.n && t[j + 1]! - t[j]! < gapMs ? j + 1 : -1;
    const spanStart = before >= 0 ? t[before]! : t[i]!;
    const spanEnd = after >= 0 ? t[after]! : t[j]!;
    const s = Math.max(fromMs, spanStart);
    const e = Math.min(toMs, spanEnd);
    const cutStart = s > spanStart;
    const cutEnd = e < spanEnd;
    const runFirst = t[i]!;
    const runLast = t[j]!;
    i = j + 1;
    if (!(e > s)) continue;
    // The stretches (between events) the run starts and ends in; events that end between are its own.
    const startStretch = stretchOf(model.events, cutStart ? s : runFirst).id;
    const endStretch = stretchOf(model.events, cutEnd ? e : runLast).id;
    const plateauStart = !cutStart && before >= 0 ? plateauLevel(model, track, before, -1, startStretch) : null;
    const plateauEnd = !cutEnd && after >= 0 ? plateauLevel(model, track, after, 1, endStretch) : null;
    const startEdge = plateauStart ?? levelNearCounted(model, track, s, startStretch);
    const endEdge = plateauEnd ?? levelNearCounted(model, track, e, endStretch);
    if (startEdge === null || endEdge === null) continue;
    let eventLitres = 0;
    let eventVariance = 0;
    for (let x = startStretch; x < endStretch; x++) {
      const ev = model.events[x]!;
      eventLitres += ev.kind === 'refuel' ? ev.litres : -ev.litres;
      eventVariance += (0.01 * ev.litres) ** 2;
    }
    runs.push({
      s,
      e,
      startStretch,
      endStretch,
      start: startEdge,
      end: endEdge,
      eventLitres,
      eventVariance,
      measured: startEdge.level - endEdge.level + eventLitres,
      rated: expectedAt(e) - expectedAt(s),
      clean: startStretch === endStretch && (plateauStart?.points ?? 0) >= CLEAN_EDGE_POINTS && (plateauEnd?.points ?? 0) >= CLEAN_EDGE_POINTS,
    });
  }
  return runs;
}

/** Sensor-measured over rated litres on the well-measured runs of the whole track, if there are enough. */
const calibration = new WeakMap<LevelModel, number | null>();
function calibrationOf(model: LevelModel, track: Track, minGapS: number): number | null {
  if (calibration.has(model)) return calibration.get(model)!;
  let measured = 0;
  let rated = 0;
  for (const run of engineRuns(model, track, -Infinity, Infinity, minGapS)) {
    if (!run.clean) continue;
    measured += run.measured;
    rated += run.rated;
  }
  const ratio = rated >= 1 ? measured / rated : null;
  const value = ratio !== null && ratio > 0.5 && ratio < 2 ? ratio : null;
  calibration.set(model, value);
  return value;
}

/** How far one run's burn may stray from the calibrated rated figures (speeds and traffic differ by trip); uncalibrated, twice that. */
const RUN_RATED_SHARE = 0.15;
const RUN_RATED_FLOOR_LITRES = 0.05;

/**
 * Litres burnt over [fromMs, toMs] by the level sensor: for every engine run (readings
 * with the engine on or the wheels turning) the level before it minus the level after
 * it, plus what was refuelled and minus what was drained during it. While the engine is
 * off nothing is burnt, so noise, refuels and drains in parked time never reach this.
 *
 * The levels are not taken one run at a time. Runs follow one another through the
 * parked stretches between them (a chain, broken only by a refuel or drain in parked
 * time, whose volume is then never needed), and the level of each parked stretch is a
 * single unknown shared by the run that ends there and the run that starts there. The
 * levels are the least-squares fit of three kinds of evidence, each weighed by its
 * variance: each level's own readings (the calm parked readings around it, or where
 * there are none — a window's edge, a pump, a short stop — the readings near the
 * instant; σ²/points, σ measured on the track); the readings taken during each run,
 * every one of them a measure of the level between the run's two ends, the share of the
 * run's burn that the rated figures put before it already gone (moving ones with the
 * larger σ of slosh); and each run's burn as the rated figures scaled by what the sensor
 * measured on the track's well-measured runs (the calibration), to some 15 %. So the
 * burns telescope (a parked level enters the total only at the ends of a chain), and an
 * edge pinned by a handful of readings (the minute between the pump and driving off)
 * leans on the drive that follows and on the calibrated figures of a short run rather
 * than on its own noise. A run during which a refuel or drain ended keeps the event's
 * measured volume, and the part of the change of level that neither explains is shared
 * between its burn and that volume by their variances.
 */
export function sensorUsedLitres(model: LevelModel, track: Track, fromMs: number, toMs: number, minGapS: number): number {
  const runs = engineRuns(model, track, fromMs, toMs, minGapS);
  if (runs.length === 0) return 0;
  const ratio = calibrationOf(model, track, minGapS);
  const share = ratio === null ? 2 * RUN_RATED_SHARE : RUN_RATED_SHARE;
  let total = 0;
  let a = 0;
  while (a < runs.length) {
    // The chain: runs whose parked stretch between them holds no event (the same stretch).
    let b = a;
    while (b + 1 < runs.length && runs[b]!.endStretch === runs[b + 1]!.startStretch && runs[b]!.e <= runs[b + 1]!.s) b++;
    total += chainBurn(model, track, runs.slice(a, b + 1), ratio ?? 1, share);
    a = b + 1;
  }
  return total;
}

/**
 * Litres burnt by a chain of runs: levels x0..xK at its K+1 parked stretches (each run's
 * start and end), fitted by least squares to each level's readings (variance σ²/points),
 * to the readings during each run ((1 − f)·x[j] + f·x[j+1], f the rated share of its burn
 * so far) and to each run's expected burn (x[j] − x[j+1] = calibrated rated − its events).
 * The normal equations are tridiagonal.
 */
function chainBurn(model: LevelModel, track: Track, chain: readonly EngineRun[], ratio: number, share: number): number {
  const sigma2 = model.noiseSigmaLitres ** 2;
  const k = chain.length;
  const nodes = k + 1;
  const obs = new Float64Array(nodes);
  const weight = new Float64Array(nodes);
  const setObs = (i: number, edge: RunEdge) => {
    // Two runs meeting at one parked stretch measure its level from the same readings
    // (or from readings hours apart, at the same level): the better measured one counts.
    if (edge.points / sigma2 > weight[i]!) {
      obs[i] = edge.level;
      weight[i] = edge.points / sigma2;
    }
  };
  for (let j = 0; j < k; j++) {
    setObs(j, chain[j]!.start);
    setObs(j + 1, chain[j]!.end);
  }
  // Normal equations, tridiagonal: diag[i], and off[j] between nodes j and j+1.
  const diag = new Float64Array(nodes);
  const off = new Float64Array(k);
  const rhs = new Float64Array(nodes);
  for (let i = 0; i < nodes; i++) {
    diag[i] = weight[i]!;
    rhs[i] = weight[i]! * obs[i]!;
  }
  // Link j: x[j] − x[j+1] ≈ mean[j] (its burn, less its events), with weight link[j].
  const mean = new Float64Array(k);
  const link = new Float64Array(k);
  const burnVariance = new Float64Array(k);
  const movingW = 1 / model.movingSigmaLitres ** 2;
  const standingW = 1 / sigma2;
  for (let j = 0; j < k; j++) {
    const run = chain[j]!;
    mean[j] = ratio * run.rated - run.eventLitres;
    burnVariance[j] = (share * Math.max(0, run.rated)) ** 2 + RUN_RATED_FLOOR_LITRES ** 2;
    link[j] = 1 / (burnVariance[j]! + run.eventVariance);
    diag[j] = diag[j]! + link[j]!;
    diag[j + 1] = diag[j + 1]! + link[j]!;
    off[j] = off[j]! - link[j]!;
    rhs[j] = rhs[j]! + link[j]! * mean[j]!;
    rhs[j + 1] = rhs[j + 1]! - link[j]! * mean[j]!;
    // The readings taken during the run: each measures the level between its two ends,
    // the share of the run's burn the rated figures put before it already gone. Not
    // across a refuel or drain (the level jumps), nor at the sensor's end stops.
    if (run.startStretch !== run.endStretch || model.events.some((ev) => ev.atMs <= run.e && ev.endMs >= run.s)) continue;
    const expS = model.expectedAtTrack[Math.max(0, pointAtOrBefore(track.t, run.s))]!;
    const expE = model.expectedAtTrack[Math.max(0, pointAtOrBefore(track.t, run.e))]!;
    const span = expE - expS;
    for (let p = pointAtOrBefore(model.t, run.s) + 1; p < model.t.length && model.t[p]! < run.e; p++) {
      if (model.censored[p] || model.stretch[p] !== run.startStretch) continue;
      const f = span > 1e-9 ? Math.min(1, Math.max(0, (model.expectedAtTrack[model.trackIndex[p]!]! - expS) / span)) : (model.t[p]! - run.s) / (run.e - run.s);
      const w = model.standing[p] ? standingW : movingW;
      // A wild reading (a spike) counts as if it lay three σ from the smoothed level.
      const limit = 3 / Math.sqrt(w);
      const y = Math.min(model.smoothed[p]! + limit, Math.max(model.smoothed[p]! - limit, model.raw[p]!));
      diag[j] = diag[j]! + w * (1 - f) ** 2;
      diag[j + 1] = diag[j + 1]! + w * f * f;
      off[j] = off[j]! + w * f * (1 - f);
      rhs[j] = rhs[j]! + w * (1 - f) * y;
      rhs[j + 1] = rhs[j + 1]! + w * f * y;
    }
  }
  // Thomas algorithm.
  const c = new Float64Array(nodes);
  const d = new Float64Array(nodes);
  c[0] = k > 0 ? off[0]! / diag[0]! : 0;
  d[0] = rhs[0]! / diag[0]!;
  for (let i = 1; i < nodes; i++) {
    const denom = diag[i]! - off[i - 1]! * c[i - 1]!;
    c[i] = i < k ? off[i]! / denom : 0;
    d[i] = (rhs[i]! - off[i - 1]! * d[i - 1]!) / denom;
  }
  const x = new Float64Array(nodes);
  x[nodes - 1] = d[nodes - 1]!;
  for (let i = nodes - 2; i >= 0; i--) x[i] = d[i]! - c[i]! * x[i + 1]!;
  // A run across a refuel or drain: the change of level is its burn and the event's
  // volume, each off by its own error; the burn takes its share of the difference.
  let burnt = 0;
  for (let j = 0; j < k; j++) {
    const run = chain[j]!;
    const gap = x[j]! - x[j + 1]! - mean[j]!;
    burnt += ratio * run.rated + (gap * burnVariance[j]!) / (burnVariance[j]! + run.eventVariance);
  }
  return burnt;
}
