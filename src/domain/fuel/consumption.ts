/**
 * Litres burnt by the level sensor between two instants: the engine runs, the parked
 * levels between them, and their least-squares fit (sensorUsedLitres). Pure.
 */
import type { Track } from '../trips.js';
import type { LevelModel } from './level-model.js';
import { pointAtOrBefore, robustLevel } from './robust.js';
import { EDGE_WINDOW_MS, MIN_SIDE_POINTS, PLATEAU_REACH_MS, type FuelEvent } from './settings.js';
import { solveTridiagonal } from './tridiagonal.js';

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
function plateauLevel(
  model: LevelModel,
  track: Track,
  edge: number,
  dir: -1 | 1,
  stretchId: number,
): { level: number; points: number } | null {
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
  startMs: number;
  endMs: number;
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
      startMs: s,
      endMs: e,
      startStretch,
      endStretch,
      start: startEdge,
      end: endEdge,
      eventLitres,
      eventVariance,
      measured: startEdge.level - endEdge.level + eventLitres,
      rated: expectedAt(e) - expectedAt(s),
      clean:
        startStretch === endStretch && (plateauStart?.points ?? 0) >= CLEAN_EDGE_POINTS && (plateauEnd?.points ?? 0) >= CLEAN_EDGE_POINTS,
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
    while (b + 1 < runs.length && runs[b]!.endStretch === runs[b + 1]!.startStretch && runs[b]!.endMs <= runs[b + 1]!.startMs) b++;
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
    if (run.startStretch !== run.endStretch || model.events.some((ev) => ev.atMs <= run.endMs && ev.endMs >= run.startMs)) continue;
    const expS = model.expectedAtTrack[Math.max(0, pointAtOrBefore(track.t, run.startMs))]!;
    const expE = model.expectedAtTrack[Math.max(0, pointAtOrBefore(track.t, run.endMs))]!;
    const span = expE - expS;
    for (let p = pointAtOrBefore(model.t, run.startMs) + 1; p < model.t.length && model.t[p]! < run.endMs; p++) {
      if (model.censored[p] || model.stretch[p] !== run.startStretch) continue;
      const f =
        span > 1e-9
          ? Math.min(1, Math.max(0, (model.expectedAtTrack[model.trackIndex[p]!]! - expS) / span))
          : (model.t[p]! - run.startMs) / (run.endMs - run.startMs);
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
  const x = solveTridiagonal(diag, off, rhs);
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
