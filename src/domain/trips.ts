/**
 * From a vehicle's readings to motion: which fixes to trust, how far it went, when it
 * moved, and its trips and stops with Traccar's semantics (reports/common/ReportUtils,
 * session/state/MotionProcessor). Pure: no clock, no I/O.
 *
 * The motion state machine, as Traccar runs it:
 *  - each reading is moving (speed above the motion speed; with `useIgnition`, and the
 *    ignition not reported off) or not;
 *  - the confirmed state changes only when the opposite state has lasted: a trip is
 *    confirmed once motion has lasted `minTripDurationS` or covered `minTripDistanceM`
 *    (either is enough), a stop once standing has lasted `minStopDurationS` — or, with
 *    `useIgnition`, at once when a later standing reading reports the ignition off;
 *  - the change is dated back to the first reading of the new state, so a trip starts
 *    at its first moving fix and ends at its first standing one;
 *  - a gap in the data of `minGapS` or more ends a trip at the last reading before it.
 * Trips and stops tile the timeline: a stop runs from a trip's end to the next start.
 */
import { haversineM } from './geo.js';

/** What the analytics read of a stored reading. */
export interface AnalysisReading {
  fixAtMs: number;
  lat: number;
  lon: number;
  speedKmh: number | null;
  ignition: boolean | null;
  odometerKm: number | null;
  hdop: number | null;
  satellites: number | null;
  fuelLitres: number | null;
  fuelPercent: number | null;
  fuelUsedLitres: number | null;
}

/** Traccar's trip parameters (report.trip.*), with the units in the names. */
export interface TripSettings {
  minTripDistanceM: number;
  minTripDurationS: number;
  minStopDurationS: number;
  /** A gap in the data at least this long ends a trip (Traccar's minimalNoDataDuration). */
  minGapS: number;
  /** A reading is moving when its speed is above this. */
  minMotionSpeedKmh: number;
  useIgnition: boolean;
  /** Measure distance from the fixes even when the device reports an odometer. */
  ignoreOdometer: boolean;
}

export const DEFAULT_TRIP_SETTINGS: TripSettings = Object.freeze({
  minTripDistanceM: 500,
  minTripDurationS: 300,
  minStopDurationS: 90,
  minGapS: 3600,
  minMotionSpeedKmh: 2,
  useIgnition: false,
  ignoreOdometer: false,
});

/** Fixes worse than this are kept for their time and sensors, not for their position. */
const MAX_HDOP = 10;
const MIN_SATELLITES = 3;
/** Faster than this between two fixes is a bad fix, not a vehicle. */
const MAX_PLAUSIBLE_KMH = 250;
/**
 * A move between two fixes whose implied speed is more than this many times the faster
 * speed the two fixes report, plus SPEED_AGREEMENT_MARGIN_KMH, is one their own readings
 * deny (a GPS jump the device's speedometer did not see).
 */
const SPEED_AGREEMENT_FACTOR = 1.5;
const SPEED_AGREEMENT_MARGIN_KMH = 30;
/** Fixes that agree with each other but not with the last trusted one: this many in a row and the vehicle is there (it moved while unseen). */
const RELOCATION_FIXES = 3;
/** A speed derived from positions is measured over at least this long, so a jittering receiver does not look like motion. */
const DERIVED_SPEED_BASE_MS = 10_000;
/** An odometer reading is used only if it agrees roughly with this ceiling. */
const MAX_ODOMETER_KMH = 300;

/** The readings as columns, with what the analytics derive per reading. */
export interface Track {
  readonly n: number;
  readonly t: Float64Array;
  readonly lat: Float64Array;
  readonly lon: Float64Array;
  /** Reported speed, or derived from the positions when the device sends none. */
  readonly speedKmh: Float64Array;
  readonly moving: Uint8Array;
  /** 1 on, 0 off, -1 unknown (the last reported value is carried for up to `minGapS`). */
  readonly ignition: Int8Array;
  /** 1 when the engine runs: ignition on, or moving with the ignition unknown. */
  readonly engineOn: Uint8Array;
  /** Distance covered since the previous reading, metres (0 while parked jitter). */
  readonly stepM: Float64Array;
  /** Running total of `stepM`. */
  readonly cumM: Float64Array;
  readonly goodFix: Uint8Array;
  readonly distanceSource: 'odometer' | 'gps';
  readonly readings: readonly AnalysisReading[];
}

/** Readings must be in fix-time order; duplicates of one fix time are dropped. */
export function prepareTrack(input: readonly AnalysisReading[], settings: TripSettings): Track {
  const readings: AnalysisReading[] = [];
  for (const r of input) {
    const last = readings[readings.length - 1];
    if (last && r.fixAtMs <= last.fixAtMs) {
      if (r.fixAtMs < last.fixAtMs) throw new Error('readings must be sorted by fix time');
      continue;
    }
    readings.push(r);
  }
  const n = readings.length;
  const t = new Float64Array(n);
  const lat = new Float64Array(n);
  const lon = new Float64Array(n);
  const speedKmh = new Float64Array(n);
  const moving = new Uint8Array(n);
  const ignition = new Int8Array(n);
  const engineOn = new Uint8Array(n);
  const stepM = new Float64Array(n);
  const cumM = new Float64Array(n);
  const goodFix = new Uint8Array(n);
  const gapMs = settings.minGapS * 1000;

  let withOdometer = 0;
  for (const r of readings) if (r.odometerKm !== null) withOdometer++;
  const distanceSource = !settings.ignoreOdometer && n >= 2 && withOdometer >= 0.9 * n ? 'odometer' : 'gps';

  // Pass 1: which fixes to trust, and the ignition carried over readings without one. A
  // fix is not trusted when the move to it from the last trusted fix is faster than any
  // vehicle, or faster than both fixes' own speeds allow (a jump). Fixes that keep agreeing
  // with each other but not with the last trusted one mean the vehicle is elsewhere: after
  // RELOCATION_FIXES of them they are trusted, and no distance is counted across the jump.
  const good: number[] = [];
  const relocated = new Uint8Array(n);
  let lastGood = -1;
  let lastIgnition = -1;
  let lastIgnitionAt = -Infinity;
  let elsewhere: number[] = [];
  const denied = (a: number, b: number): boolean => {
    const d = haversineM(lat[a]!, lon[a]!, lat[b]!, lon[b]!);
    if (d <= 200) return false;
    const impliedKmh = (d / Math.max(1, (t[b]! - t[a]!) / 1000)) * 3.6;
    if (impliedKmh > MAX_PLAUSIBLE_KMH) return true;
    const va = readings[a]!.speedKmh;
    const vb = readings[b]!.speedKmh;
    if (va === null || vb === null || !Number.isFinite(va) || !Number.isFinite(vb) || t[b]! - t[a]! >= gapMs) return false;
    return impliedKmh > SPEED_AGREEMENT_FACTOR * Math.max(va, vb) + SPEED_AGREEMENT_MARGIN_KMH;
  };
  for (let i = 0; i < n; i++) {
    const r = readings[i]!;
    t[i] = r.fixAtMs;
    lat[i] = r.lat;
    lon[i] = r.lon;
    let isGood = (r.hdop === null || r.hdop <= MAX_HDOP) && (r.satellites === null || r.satellites >= MIN_SATELLITES);
    if (isGood && lastGood >= 0 && denied(lastGood, i)) {
      isGood = false;
      const last = elsewhere[elsewhere.length - 1];
      elsewhere = last !== undefined && !denied(last, i) ? [...elsewhere, i] : [i];
      if (elsewhere.length >= RELOCATION_FIXES) {
        // The vehicle is where these fixes say: trust them all from the first, and count
        // no distance from the last trusted fix to it.
        for (const k of elsewhere.slice(0, -1)) {
          goodFix[k] = 1;
          good.push(k);
        }
        relocated[elsewhere[0]!] = 1;
        elsewhere = [];
        isGood = true;
      }
    } else if (isGood) {
      elsewhere = [];
    }
    goodFix[i] = isGood ? 1 : 0;
    if (isGood) {
      good.push(i);
      lastGood = i;
    }
    if (r.ignition !== null) {
      lastIgnition = r.ignition ? 1 : 0;
      lastIgnitionAt = r.fixAtMs;
    } else if (r.fixAtMs - lastIgnitionAt >= gapMs) {
      lastIgnition = -1;
    }
    ignition[i] = lastIgnition;
  }

  // Pass 2: speed. A device that sends none gets the slower of the speeds measured over at
  // least ten seconds before and after the fix: the fix where a vehicle arrives already
  // stands (nothing moves after it), the one where it leaves still stands (nothing moved
  // before it), and a jittering receiver moves too little over ten seconds to count.
  const derivedAt = (i: number, j: number) => {
    const dtMs = Math.abs(t[i]! - t[j]!);
    return dtMs >= gapMs || dtMs === 0 ? 0 : (haversineM(lat[j]!, lon[j]!, lat[i]!, lon[i]!) / (dtMs / 1000)) * 3.6;
  };
  // Moving on either side, for distance: a fix where the vehicle arrives still ends a move.
  const looseMoving = new Uint8Array(n);
  let back = 0;
  let fwd = 0;
  for (let g = 0; g < good.length; g++) {
    const i = good[g]!;
    while (back + 1 < g && t[i]! - t[good[back + 1]!]! >= DERIVED_SPEED_BASE_MS) back++;
    if (fwd <= g) fwd = Math.min(good.length - 1, g + 1);
    while (fwd + 1 < good.length && t[good[fwd]!]! - t[i]! < DERIVED_SPEED_BASE_MS) fwd++;
    const before = g > 0 ? derivedAt(i, good[back]!) : Infinity;
    const after = g + 1 < good.length ? derivedAt(good[fwd]!, i) : Infinity;
    speedKmh[i] = Math.min(before, after) === Infinity ? 0 : Math.min(before, after);
    const faster = Math.max(before === Infinity ? 0 : before, after === Infinity ? 0 : after);
    looseMoving[i] = faster > settings.minMotionSpeedKmh ? 1 : 0;
  }
  for (let i = 0; i < n; i++) {
    const reported = readings[i]!.speedKmh;
    if (reported !== null && Number.isFinite(reported)) {
      speedKmh[i] = Math.max(0, reported);
      looseMoving[i] = speedKmh[i]! > settings.minMotionSpeedKmh ? 1 : 0;
    } else if (!goodFix[i]) {
      speedKmh[i] = i > 0 ? speedKmh[i - 1]! : 0;
    }
  }

  // Pass 3: motion and distance. Jitter while standing adds nothing: GPS distance is
  // measured from the last fix taken in motion (or the last fix before standing), so a
  // stop adds at most one jitter's worth, once, when the vehicle leaves.
  let anchor = -1;
  let lastOdo = -1;
  for (let i = 0; i < n; i++) {
    const r = readings[i]!;
    const fast = speedKmh[i]! > settings.minMotionSpeedKmh;
    moving[i] = fast && !(settings.useIgnition && ignition[i] === 0) ? 1 : 0;
    engineOn[i] = ignition[i] === 1 || (ignition[i] === -1 && moving[i] === 1) ? 1 : 0;
    let step = 0;
    if (distanceSource === 'odometer' && r.odometerKm !== null && lastOdo >= 0) {
      const deltaKm = r.odometerKm - readings[lastOdo]!.odometerKm!;
      const dtH = (r.fixAtMs - t[lastOdo]!) / 3_600_000;
      if (deltaKm >= 0 && deltaKm <= Math.max(0.05, MAX_ODOMETER_KMH * dtH)) step = deltaKm * 1000;
      else if (goodFix[i] && anchor >= 0) step = haversineM(lat[anchor]!, lon[anchor]!, r.lat, r.lon);
    } else if (distanceSource === 'gps' && goodFix[i]) {
      if (anchor < 0 || relocated[i]) anchor = i;
      else if (looseMoving[i] || looseMoving[anchor]) {
        step = haversineM(lat[anchor]!, lon[anchor]!, r.lat, r.lon);
        anchor = i;
      }
    }
    if (distanceSource === 'odometer' && goodFix[i]) anchor = i;
    stepM[i] = step;
    cumM[i] = (i > 0 ? cumM[i - 1]! : 0) + step;
    if (r.odometerKm !== null) lastOdo = i;
  }
  return { n, t, lat, lon, speedKmh, moving, ignition, engineOn, stepM, cumM, goodFix, distanceSource, readings };
}

/** A confirmed change of motion state, dated at the reading where the new state began. */
export interface MotionTransition {
  index: number;
  moving: boolean;
}

/** Runs the motion state machine; answers the state at the first reading and the confirmed changes. */
export function detectMotion(track: Track, settings: TripSettings): { initialMoving: boolean; transitions: MotionTransition[] } {
  const { n, t, moving, cumM, ignition } = track;
  const transitions: MotionTransition[] = [];
  if (n === 0) return { initialMoving: false, transitions };
  const initialMoving = moving[0] === 1;
  let streak = initialMoving;
  let state = initialMoving;
  let candidate = -1;
  const gapMs = settings.minGapS * 1000;
  const minTripMs = settings.minTripDurationS * 1000;
  const minStopMs = settings.minStopDurationS * 1000;
  for (let i = 0; i < n; i++) {
    if (i > 0 && t[i]! - t[i - 1]! >= gapMs && streak) {
      transitions.push({ index: i - 1, moving: false });
      streak = false;
      state = false;
      candidate = -1;
      continue;
    }
    const now = moving[i] === 1;
    if (now === state) {
      if (candidate >= 0) {
        const confirmed = now
          ? t[i]! - t[candidate]! >= minTripMs || cumM[i]! - cumM[candidate]! >= settings.minTripDistanceM
          : t[i]! - t[candidate]! >= minStopMs || (settings.useIgnition && ignition[i] === 0);
        if (confirmed) {
          transitions.push({ index: candidate, moving: now });
          streak = now;
          candidate = -1;
        }
      }
    } else {
      state = now;
      candidate = streak === now ? -1 : i;
    }
  }
  return { initialMoving, transitions };
}

/** A trip or a stop as indexes into the track, both ends included. */
export interface MotionSegment {
  kind: 'trip' | 'stop';
  startIdx: number;
  endIdx: number;
}

/** Trips and stops tiling the track, in time order. */
export function motionSegments(track: Track, motion: { initialMoving: boolean; transitions: MotionTransition[] }): MotionSegment[] {
  const segments: MotionSegment[] = [];
  if (track.n === 0) return segments;
  let kind: 'trip' | 'stop' = motion.initialMoving ? 'trip' : 'stop';
  let start = 0;
  for (const tr of motion.transitions) {
    const next = tr.moving ? 'trip' : 'stop';
    if (next === kind) continue;
    segments.push({ kind, startIdx: start, endIdx: tr.index });
    kind = next;
    start = tr.index;
  }
  segments.push({ kind, startIdx: start, endIdx: track.n - 1 });
  return segments;
}
