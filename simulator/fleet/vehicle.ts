/**
 * One vehicle's run: its state at the start, its one-second clock, and its close.
 *
 * The vehicle lives on its own clock counted from the run's start. It drives one second
 * at a time and crosses standing phases (parked, idling, refuelling, being drained) in
 * one jump, to the next second at which something is due: a phase's end, a reading, a
 * new WITA day, a coverage change, a drain.
 */
import { witaDayIndex, witaDayStartMs } from '../calendar.js';
import { kupangDestinations, type Place } from '../kupang.js';
import { chance, pick, stream, uniform } from '../random.js';
import { Accumulator } from '../truth.js';
import type { VehicleSetup } from '../vehicles.js';
import { arrive, finishActivity, nextSegment } from './activities.js';
import { driveSecond } from './drive.js';
import { drainDue, forgetStaleDrains, nextDrainS, planDrain, startDrain } from './drains.js';
import { nextCallFrom, roamingJob } from './schedule.js';
import type { Context, VehicleState } from './state.js';
import { pumpedLitresAt, stand } from './tank.js';
import { takeReading } from './tracker.js';
import { flushOutage, nextOutageFrom, startOutage } from './tracker-faults.js';
import { closeDay, closeStop, closeTrip, openStop, recordDrain, recordRefuel, recordVehicle } from './truth-records.js';

export function initialState(setup: VehicleSetup, index: number, ctx: Context): VehicleState {
  const { opts } = ctx;
  // Streams are named after the vehicle, not its tracker: the same vehicle drives the
  // same way whether its tracker speaks Armada or OwnTracks, or was registered anew.
  const id = setup.plateNumber;
  const init = stream(opts.seed, id, 'init');
  const capacity = setup.spec.tankCapacityLitres;
  // Drawn whether or not they are used, so a vehicle that resumes leaves the seed's other draws as they were.
  const drawnLevelLitres = capacity * uniform(init, 0.35, 0.95);
  const odometerM = Math.round(uniform(init, 3_000, 90_000)) * 1000;
  const roam = opts.schedule === 'always';
  const drawnPlace = roam ? pick(init, kupangDestinations) : setup.home;
  const resume = setup.spec.startAt;
  const startPlace: Place = resume ? { name: 'where it stopped', kind: 'neighbourhood', lat: resume.lat, lon: resume.lon } : drawnPlace;
  const resumedLevelLitres = resume?.levelLitres;
  const levelLitres =
    resumedLevelLitres !== undefined && resumedLevelLitres !== null && Number.isFinite(resumedLevelLitres)
      ? Math.min(capacity, Math.max(0, resumedLevelLitres))
      : drawnLevelLitres;
  const firstReadingS = Math.floor(init() * Math.min(opts.intervalS, 10));
  const dayIndex = witaDayIndex(opts.startMs);
  const s: VehicleState = {
    index,
    setup,
    moveRng: stream(opts.seed, id, 'move'),
    noiseRng: stream(opts.seed, id, 'noise'),
    fraudRng: stream(opts.seed, id, 'fraud'),
    offlineRng: stream(opts.seed, id, 'offline'),
    callsRng: stream(opts.seed, id, 'calls'),
    snapshotRng: stream(opts.seed, id, 'snapshot'),
    tS: 0,
    kin: {
      position: { lat: startPlace.lat, lon: startPlace.lon },
      headingDeg: Math.round(uniform(init, 0, 359)),
      speedMps: 0,
      accelMps2: 0,
    },
    place: startPlace,
    odometerM,
    startOdometerM: odometerM,
    levelLitres,
    // A counter that has been counting since the vehicle was new.
    counterLitres: (odometerM / 100_000) * setup.spec.ratedLitresPer100Km,
    ignition: false,
    activity: { kind: 'park', untilS: 0, phantomStation: null },
    segments: [],
    departJob: null,
    jobs: [],
    plans: new Map(),
    drains: [],
    nextCallS: 0,
    phantomDueS: [],
    elsewhereDueS: [],
    lastRefuelS: Number.NEGATIVE_INFINITY,
    trip: null,
    stop: null,
    run: new Accumulator(levelLitres),
    day: new Accumulator(levelLitres),
    dayFromS: 0,
    nextDayS: (witaDayStartMs(dayIndex + 1) - opts.startMs) / 1000,
    nextReadingS: firstReadingS,
    lastReadingS: -1,
    seq: 0,
    readings: 0,
    badFixes: 0,
    ranDryS: 0,
    outage: null,
    nextOutageS: 0,
    receipts: 0,
    out: [],
  };
  s.nextOutageS = nextOutageFrom(s, ctx, 0);
  s.nextCallS = nextCallFrom(s, ctx, 0);
  planDrain(s, ctx, dayIndex);
  openStop(s);
  if (roam) {
    // Half the fleet is on the road at once, so that a fresh map shows movement.
    if (chance(init, 0.5)) s.activity = { kind: 'park', untilS: Math.round(uniform(init, 0, 900)), phantomStation: null };
    else {
      s.departJob = roamingJob(s);
      nextSegment(s, ctx);
    }
  }
  return s;
}

/** Everything due at the current second: day change, coverage, phase ends, drains, a reading. */
function processNow(s: VehicleState, ctx: Context): void {
  for (let guard = 0; ; guard++) {
    if (guard > 10_000) throw new Error(`simulator: vehicle ${s.setup.spec.deviceId} is stuck at second ${s.tS}`);
    if (s.tS >= s.nextDayS) {
      closeDay(s, ctx, false);
      const dayIndex = witaDayIndex(ctx.opts.startMs + s.tS * 1000);
      s.nextDayS = (witaDayStartMs(dayIndex + 1) - ctx.opts.startMs) / 1000;
      forgetStaleDrains(s);
      planDrain(s, ctx, dayIndex);
      continue;
    }
    if (s.outage && s.tS >= s.outage.endS) {
      flushOutage(s, ctx, false);
      continue;
    }
    if (!s.outage && s.tS >= s.nextOutageS) {
      startOutage(s);
      continue;
    }
    const a = s.activity;
    if (a.kind !== 'drive' && s.tS >= a.untilS) {
      finishActivity(s, ctx);
      continue;
    }
    if (drainDue(s)) {
      startDrain(s);
      continue;
    }
    if (s.tS >= s.nextReadingS) {
      takeReading(s, ctx);
      continue;
    }
    return;
  }
}

/** Runs the vehicle up to second targetS. */
export function advanceVehicle(s: VehicleState, ctx: Context, targetS: number): void {
  processNow(s, ctx);
  while (s.tS < targetS) {
    const a = s.activity;
    if (a.kind === 'drive') {
      if (driveSecond(s, a)) arrive(s, ctx, a.job);
    } else {
      let next = Math.min(targetS, a.untilS, s.nextReadingS, s.nextDayS, s.outage ? s.outage.endS : s.nextOutageS);
      const drainS = nextDrainS(s);
      if (drainS !== null) next = Math.min(next, drainS);
      stand(s, Math.max(next, s.tS + 1));
    }
    processNow(s, ctx);
  }
}

/** The run ends at the second reached: what is open is recorded as incomplete, then the vehicle's summary. */
export function finishVehicle(s: VehicleState, ctx: Context): void {
  const a = s.activity;
  if (a.kind === 'refuel' && s.tS > a.pumpFromS) recordRefuel(s, ctx, a, Math.min(s.tS, a.pumpUntilS), pumpedLitresAt(a, s.tS), true);
  if (a.kind === 'drain' && s.tS > a.fromS) recordDrain(s, ctx, a, s.tS, true);
  closeTrip(s, ctx, true);
  closeStop(s, ctx, true);
  if (s.outage) flushOutage(s, ctx, true);
  if (s.tS > s.dayFromS) closeDay(s, ctx, true);
  recordVehicle(s);
}
