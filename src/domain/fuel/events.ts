/**
 * Refuels and drains: steps of the residual (the median after each reading minus the
 * median before it), their extent where the residual leaves one level and reaches the
 * next, their volume re-measured outside that extent, and events of one kind merged. Pure.
 */
import type { Track } from '../trips.js';
import type { StepInput } from './level-model.js';
import { medianOf, pointAtOrBefore, robustLevel } from './robust.js';
import {
  drainThresholdLitres,
  MIN_SIDE_POINTS,
  PLATEAU_REACH_MS,
  refuelThresholdLitres,
  type FuelEvent,
  type FuelSettings,
  type VehicleFuelSpec,
} from './settings.js';

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

export function detectEvents(
  track: Track,
  vehicle: VehicleFuelSpec,
  settings: FuelSettings,
  s: StepInput,
  scratch: Float64Array,
): FuelEvent[] {
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
    if (
      Math.abs(residual[afterHi]! - residual[beforeLo]!) < quietLitres &&
      Math.abs(residual[k]! - residual[beforeLo]!) < quietLitres &&
      Math.abs(residual[afterHi]! - residual[k]!) < quietLitres
    ) {
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
function measureEvent(
  track: Track,
  vehicle: VehicleFuelSpec,
  s: StepInput,
  peak: number,
  sign: number,
  windowMs: number,
  scratch: Float64Array,
  barrier = 0,
): FuelEvent | null {
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
  const refined = fitRamp(
    s,
    startK,
    endK,
    peak,
    before,
    after,
    Math.min(refuelThresholdLitres(s.settings, vehicle.tankCapacityLitres), drainThresholdLitres(s.settings, vehicle.tankCapacityLitres)),
    barrier,
  );
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
function fitRamp(
  s: StepInput,
  startK: number,
  endK: number,
  peak: number,
  before: number,
  after: number,
  stepLitres: number,
  barrier = 0,
): { startK: number; endK: number } {
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
function sideLevelInTime(
  s: StepInput,
  limitMs: number,
  edge: number,
  scratch: Float64Array,
  side: 'before' | 'after',
  preferStanding = true,
): number | null {
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
function eventBetween(
  track: Track,
  vehicle: VehicleFuelSpec,
  s: StepInput,
  startK: number,
  endK: number,
  windowMs: number,
  scratch: Float64Array,
): FuelEvent | null {
  const { t } = s;
  const stepLitres = Math.min(
    refuelThresholdLitres(s.settings, vehicle.tankCapacityLitres),
    drainThresholdLitres(s.settings, vehicle.tankCapacityLitres),
  );
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

function mergeEvents(
  events: FuelEvent[],
  track: Track,
  vehicle: VehicleFuelSpec,
  settings: FuelSettings,
  s: StepInput,
  windowMs: number,
  scratch: Float64Array,
): FuelEvent[] {
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
