/**
 * What a vehicle is doing, phase by phase: it leaves for a job (after a warm-up idle,
 * or a detour to a station), drives, arrives, works through what is to be done there
 * (parking, idling, refuelling, a phantom visit) and, when nothing is left, asks the
 * schedule what comes next. A phase starts here and ends here; the clock (vehicle.ts)
 * says when.
 */
import { kupangFuelStations, nearestPlace, type Place } from '../kupang.js';
import { planRoute } from '../movement.js';
import { chance, uniform } from '../random.js';
import { finishDrain } from './drains.js';
import { finishRefuel, maybeElsewhereReceipt, phantomReceipt, planRefuel, withFuelStop } from './fuel-stops.js';
import { decideNext } from './schedule.js';
import { idleFor, isAt, parkFor, type Context, type Job, type Segment, type VehicleState } from './state.js';
import { setIgnition } from './tracker.js';
import { closeStop, closeTrip, noteActivity, openStop, placeRef } from './truth-records.js';

/** Parks until untilS (at least a second); at a station with `phantomStation`, a phantom visit. */
function startPark(s: VehicleState, ctx: Context, untilS: number, phantomStation: Place | null = null): void {
  setIgnition(s, false);
  s.activity = { kind: 'park', untilS: Math.max(untilS, s.tS + 1), phantomStation };
  noteActivity(s, phantomStation ? 'wait' : 'park');
  if (!phantomStation) maybeElsewhereReceipt(s, ctx, untilS - s.tS);
}

function startSegment(s: VehicleState, ctx: Context, seg: Segment): void {
  switch (seg.kind) {
    case 'park':
      startPark(s, ctx, s.tS + seg.durationS);
      return;
    case 'idle':
      setIgnition(s, true);
      s.activity = { kind: 'idle', untilS: s.tS + seg.durationS };
      noteActivity(s, 'idle');
      return;
    case 'phantom':
      startPark(s, ctx, s.tS + Math.round(uniform(s.moveRng, 120, 360)), s.place ?? nearestPlace(s.kin.position, kupangFuelStations));
      return;
    case 'refuel': {
      const { refuel, queueUntilS } = planRefuel(s, ctx);
      if (!refuel) {
        startPark(s, ctx, queueUntilS);
        return;
      }
      setIgnition(s, false);
      s.activity = refuel;
      noteActivity(s, 'refuel');
      return;
    }
  }
}

/** The current phase has reached its end: close it and start the next. */
export function finishActivity(s: VehicleState, ctx: Context): void {
  const a = s.activity;
  switch (a.kind) {
    case 'park':
      if (a.phantomStation) phantomReceipt(s, ctx, a.phantomStation);
      break;
    case 'refuel':
      finishRefuel(s, ctx, a);
      break;
    case 'drain':
      if (finishDrain(s, ctx, a)) return;
      break;
    case 'idle':
    case 'drive':
      break;
  }
  nextSegment(s, ctx);
}

export function nextSegment(s: VehicleState, ctx: Context): void {
  const seg = s.segments.shift();
  if (seg) {
    startSegment(s, ctx, seg);
    return;
  }
  if (s.departJob) {
    const job = s.departJob;
    s.departJob = null;
    depart(s, ctx, job);
    return;
  }
  const decision = decideNext(s, ctx);
  if ('job' in decision) startJob(s, ctx, decision.job);
  else startPark(s, ctx, decision.parkUntilS);
}

function depart(s: VehicleState, ctx: Context, job: Job): void {
  closeStop(s, ctx, false);
  setIgnition(s, true);
  s.trip = {
    startS: s.tS,
    start: placeRef(s),
    distanceM: 0,
    litresUsed: 0,
    idleS: 0,
    maxSpeedMps: 0,
    purpose: job.purpose,
    leftCity: false,
  };
  s.place = null;
  s.activity = { kind: 'drive', route: planRoute(s.moveRng, s.setup.profile, s.kin.position, job.place, s.tS), job };
}

/** At the job's place: the trip ends, a stop begins, and the job's dwell is worked through. */
export function arrive(s: VehicleState, ctx: Context, job: Job): void {
  s.kin.position = { lat: job.place.lat, lon: job.place.lon };
  s.kin.speedMps = 0;
  s.kin.accelMps2 = 0;
  s.place = job.place;
  closeTrip(s, ctx, false);
  openStop(s);
  s.segments = [...job.dwell];
  if (s.segments.length === 0) s.segments.push(chance(s.moveRng, 0.4) ? idleFor(uniform(s.moveRng, 20, 90)) : parkFor(1));
  nextSegment(s, ctx);
}

/** Leaves for a job: refuelling first when the tank is low, a phantom station visit when one is owed. */
function startJob(s: VehicleState, ctx: Context, next: Job): void {
  const job = withFuelStop(s, next);
  if (isAt(s, job.place)) {
    // Already there: do what is to be done without driving.
    s.place = job.place;
    s.segments = job.dwell.length > 0 ? [...job.dwell] : [parkFor(60)];
    nextSegment(s, ctx);
    return;
  }
  s.departJob = job;
  s.segments = chance(s.moveRng, 0.5) ? [idleFor(uniform(s.moveRng, 30, 120))] : [];
  nextSegment(s, ctx);
}
