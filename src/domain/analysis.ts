/**
 * One vehicle over one window of time: its trips and stops, distance, driving, idle and
 * engine time, and fuel (used, by which source, refuels and drains). Pure.
 *
 * The readings handed in may reach before and after the window (context): the motion
 * state machine and the level smoothing then see what happened around its edges, so a
 * trip that began before midnight is known to be a trip at midnight. What is reported
 * belongs to the window only, and so adds up across adjacent windows:
 *  - the interval between two readings belongs to the window holding the later one;
 *  - a trip or stop is cut at the window's edges (`clippedStart`, `clippedEnd`), and
 *    `mergePieces` joins the cut pieces of adjacent windows back into one;
 *  - a refuel or drain belongs to the window in which it began.
 */
import {
  buildLevelModel,
  levelNear,
  sensorUsedLitres,
  type FuelEvent,
  type FuelSettings,
  type FuelSource,
  type LevelModel,
  type VehicleFuelSpec,
} from './fuel/index.js';
import { isWorkingTime, type WorkingHours } from './report-time.js';
import { detectMotion, motionSegments, prepareTrack, type AnalysisReading, type Track, type TripSettings } from './trips.js';

export interface AnalysisSettings {
  trips: TripSettings;
  fuel: FuelSettings;
  tz: string;
  workingHours: WorkingHours;
}

/** A trip or stop, or the part of one that lies inside a window. */
export interface SegmentPiece {
  kind: 'trip' | 'stop';
  startMs: number;
  endMs: number;
  /** The trip or stop began before the window (or continues after it). */
  clippedStart: boolean;
  clippedEnd: boolean;
  distanceM: number;
  maxSpeedKmh: number;
  fuelUsedLitres: number;
  startLat: number;
  startLon: number;
  endLat: number;
  endLon: number;
  drivingS: number;
  idleS: number;
  /** Seconds with the engine running. */
  engineOnS: number;
}

export interface WindowMetrics {
  distanceM: number;
  drivingS: number;
  idleS: number;
  engineS: number;
  points: number;
  distanceOutsideHoursM: number;
  maxSpeedKmh: number;
  firstFixMs: number | null;
  lastFixMs: number | null;
}

export interface WindowFuel {
  /** null when nothing was used and no source measured it (no readings at all). */
  source: FuelSource;
  usedLitres: number;
  counterLitres: number | null;
  sensorLitres: number | null;
  ratedLitres: number;
  idleLitres: number;
  refuels: FuelEvent[];
  drains: FuelEvent[];
  startLevelLitres: number | null;
  endLevelLitres: number | null;
}

export interface WindowAnalysis {
  fromMs: number;
  toMs: number;
  distanceSource: 'odometer' | 'gps';
  segments: SegmentPiece[];
  metrics: WindowMetrics;
  fuel: WindowFuel;
}

/** First index with t >= ms. */
function lowerBound(t: Float64Array, ms: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Shared, per-window state: the track, the level model and the fuel source. */
interface Context {
  track: Track;
  level: LevelModel | null;
  vehicle: VehicleFuelSpec;
  settings: AnalysisSettings;
  gapMs: number;
  /** Counter increment owned by interval i (NaN: no counter on both ends). */
  counterStep: Float64Array;
}

/** Litres the counter says were used by the intervals owned by [i0, i1] (track indexes). */
function counterLitres(ctx: Context, i0: number, i1: number): { litres: number; steps: number; idleLitres: number } {
  let litres = 0;
  let steps = 0;
  let idleLitres = 0;
  for (let i = Math.max(1, i0); i <= i1; i++) {
    const inc = ctx.counterStep[i]!;
    if (Number.isNaN(inc)) continue;
    steps++;
    litres += inc;
    if (ctx.track.engineOn[i - 1] === 1 && ctx.track.moving[i - 1] === 0) idleLitres += inc;
  }
  return { litres, steps, idleLitres };
}

function sensorLitres(ctx: Context, fromMs: number, toMs: number): number {
  return ctx.level ? sensorUsedLitres(ctx.level, ctx.track, fromMs, toMs, ctx.settings.trips.minGapS) : 0;
}

function ratedLitres(vehicle: VehicleFuelSpec, distanceM: number, idleS: number): number {
  return (vehicle.ratedLitresPer100Km * distanceM) / 100_000 + (vehicle.idleLitresPerHour * idleS) / 3600;
}

type Source = FuelSource;

function usedBetween(
  ctx: Context,
  source: Source,
  fromMs: number,
  toMs: number,
  i0: number,
  i1: number,
  distanceM: number,
  idleS: number,
): number {
  if (source === 'counter') return counterLitres(ctx, i0, i1).litres;
  if (source === 'sensor') return Math.max(0, sensorLitres(ctx, fromMs, toMs));
  return ratedLitres(ctx.vehicle, distanceM, idleS);
}

/** Sums over the intervals owned by track indexes [i0, i1]. */
function intervalSums(ctx: Context, i0: number, i1: number) {
  const { track, gapMs } = ctx;
  let distanceM = 0;
  let drivingS = 0;
  let idleS = 0;
  let engineS = 0;
  for (let i = Math.max(1, i0); i <= i1; i++) {
    distanceM += track.stepM[i]!;
    const dt = track.t[i]! - track.t[i - 1]!;
    if (dt >= gapMs) continue;
    const s = dt / 1000;
    if (track.moving[i - 1]) drivingS += s;
    if (track.engineOn[i - 1]) {
      engineS += s;
      if (!track.moving[i - 1]) idleS += s;
    }
  }
  return { distanceM, drivingS, idleS, engineS };
}

/**
 * Analyses [fromMs, toMs) of one vehicle. `readings` are in fix-time order and may include
 * context before and after the window.
 */
export function analyseWindow(
  readings: readonly AnalysisReading[],
  vehicle: VehicleFuelSpec,
  settings: AnalysisSettings,
  fromMs: number,
  toMs: number,
): WindowAnalysis {
  const track = prepareTrack(readings, settings.trips);
  const level = buildLevelModel(track, vehicle, settings.fuel, settings.trips.minGapS);
  const counterStep = new Float64Array(track.n).fill(NaN);
  let lastCounter = -1;
  for (let i = 0; i < track.n; i++) {
    const c = track.readings[i]!.fuelUsedLitres;
    if (c === null || !Number.isFinite(c)) continue;
    if (lastCounter >= 0) {
      const prev = track.readings[lastCounter]!.fuelUsedLitres!;
      // A counter that went backwards was reset: that interval adds nothing.
      counterStep[i] = c >= prev ? c - prev : 0;
    }
    lastCounter = i;
  }
  const ctx: Context = { track, level, vehicle, settings, gapMs: settings.trips.minGapS * 1000, counterStep };
  const { t } = track;
  const i0 = lowerBound(t, fromMs);
  const i1 = lowerBound(t, toMs) - 1;

  // Window metrics.
  const sums = intervalSums(ctx, i0, i1);
  let distanceOutsideHoursM = 0;
  let maxSpeedKmh = 0;
  for (let i = i0; i <= i1; i++) {
    if (track.speedKmh[i]! > maxSpeedKmh) maxSpeedKmh = track.speedKmh[i]!;
    if (track.stepM[i]! > 0 && !isWorkingTime(settings.tz, settings.workingHours, t[i]!)) distanceOutsideHoursM += track.stepM[i]!;
  }
  const points = Math.max(0, i1 - i0 + 1);
  const metrics: WindowMetrics = {
    ...sums,
    points,
    distanceOutsideHoursM,
    maxSpeedKmh,
    firstFixMs: points > 0 ? t[i0]! : null,
    lastFixMs: points > 0 ? t[i1]! : null,
  };

  // Which fuel source measures this window.
  const counter = counterLitres(ctx, i0, i1);
  let levelPoints = 0;
  if (level) for (let k = lowerBound(level.t, fromMs); k < level.t.length && level.t[k]! < toMs; k++) levelPoints++;
  const source: Source = counter.steps >= 1 ? 'counter' : levelPoints >= 1 ? 'sensor' : 'rated';
  const rated = ratedLitres(vehicle, sums.distanceM, sums.idleS);
  const sensor =
    level && levelPoints >= 1 && sums.engineS + sums.drivingS > 0
      ? Math.max(0, sensorLitres(ctx, fromMs, toMs))
      : level && levelPoints >= 1
        ? 0
        : null;
  const used = source === 'counter' ? counter.litres : source === 'sensor' ? sensor! : rated;
  const events = level ? level.events.filter((e) => e.atMs >= fromMs && e.atMs < toMs) : [];
  const fuel: WindowFuel = {
    source,
    usedLitres: used,
    counterLitres: counter.steps >= 1 ? counter.litres : null,
    sensorLitres: sensor,
    ratedLitres: rated,
    idleLitres: source === 'counter' ? counter.idleLitres : (vehicle.idleLitresPerHour * sums.idleS) / 3600,
    refuels: events.filter((e) => e.kind === 'refuel'),
    drains: events.filter((e) => e.kind === 'drain'),
    startLevelLitres: level && levelPoints >= 1 ? levelNear(level, track, Math.max(fromMs, t[Math.max(0, i0)]!)) : null,
    endLevelLitres: level && levelPoints >= 1 ? levelNear(level, track, Math.min(toMs, t[Math.max(0, i1)]!)) : null,
  };

  // Trips and stops, cut to the window.
  const segments: SegmentPiece[] = [];
  if (track.n > 0 && i1 >= i0) {
    const motion = detectMotion(track, settings.trips);
    for (const seg of motionSegments(track, motion)) {
      const ts = t[seg.startIdx]!;
      const te = t[seg.endIdx]!;
      if (ts >= toMs || te < fromMs) continue;
      if (te === fromMs && te > ts) continue;
      const clippedStart = ts < fromMs;
      const clippedEnd = te >= toMs;
      const startMs = clippedStart ? fromMs : ts;
      const endMs = clippedEnd ? toMs : te;
      // Intervals owned: later reading in (ts, te] and in [fromMs, toMs).
      const a = Math.max(seg.startIdx + 1, i0);
      const b = Math.min(seg.endIdx, i1);
      const s = intervalSums(ctx, a, b);
      let maxKmh = 0;
      for (let i = Math.max(seg.startIdx, i0); i <= Math.min(seg.endIdx, i1); i++)
        if (track.speedKmh[i]! > maxKmh) maxKmh = track.speedKmh[i]!;
      const startPos = clippedStart ? Math.max(0, i0 - 1) : seg.startIdx;
      const endPos = clippedEnd ? Math.max(0, i1) : seg.endIdx;
      segments.push({
        kind: seg.kind,
        startMs,
        endMs,
        clippedStart,
        clippedEnd,
        distanceM: s.distanceM,
        maxSpeedKmh: maxKmh,
        fuelUsedLitres: usedBetween(ctx, source, startMs, endMs, a, b, s.distanceM, s.idleS),
        startLat: track.lat[startPos]!,
        startLon: track.lon[startPos]!,
        endLat: track.lat[endPos]!,
        endLon: track.lon[endPos]!,
        drivingS: s.drivingS,
        idleS: s.idleS,
        engineOnS: s.engineS,
      });
    }
  }

  return { fromMs, toMs, distanceSource: track.distanceSource, segments, metrics, fuel };
}

/** Joins pieces of one trip or stop that adjacent windows cut apart. Pieces must be in time order. */
export function mergePieces(pieces: readonly SegmentPiece[]): SegmentPiece[] {
  const out: SegmentPiece[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (last && last.kind === p.kind && last.clippedEnd && p.clippedStart && last.endMs === p.startMs) {
      out[out.length - 1] = {
        ...last,
        endMs: p.endMs,
        clippedEnd: p.clippedEnd,
        distanceM: last.distanceM + p.distanceM,
        maxSpeedKmh: Math.max(last.maxSpeedKmh, p.maxSpeedKmh),
        fuelUsedLitres: last.fuelUsedLitres + p.fuelUsedLitres,
        endLat: p.endLat,
        endLon: p.endLon,
        drivingS: last.drivingS + p.drivingS,
        idleS: last.idleS + p.idleS,
        engineOnS: last.engineOnS + p.engineOnS,
      };
      continue;
    }
    out.push({ ...p });
  }
  return out;
}
