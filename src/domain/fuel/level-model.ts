/**
 * The level model: the sensor's readings smoothed (a running median), turned into a
 * residual that driving does not move (level plus what the rated figures burnt), with the
 * refuels and drains found in it and the sensor's noise measured. Pure.
 */
import type { Track } from '../trips.js';
import { detectEvents } from './events.js';
import { medianOf } from './robust.js';
import {
  drainThresholdLitres,
  MIN_SMOOTHING_POINTS,
  MOVING_LAG_MS,
  refuelThresholdLitres,
  type FuelEvent,
  type FuelSettings,
  type VehicleFuelSpec,
} from './settings.js';

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
  const events = detectEvents(
    track,
    vehicle,
    settings,
    {
      settings,
      stepLitres: Math.min(refuelThresholdLitres(settings, cap), drainThresholdLitres(settings, cap)),
      t,
      censored,
      residual,
      rawResidual,
      standing,
      trackIndex,
      expectedAtTrack,
    },
    scratch,
  );

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

  return {
    trackIndex,
    t,
    raw,
    smoothed,
    residual,
    rawResidual,
    censored,
    noiseSigmaLitres,
    movingSigmaLitres,
    stretch,
    pointAtTrack,
    standing,
    expectedAtTrack,
    events: sorted,
  };
}

export interface StepInput {
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
