/**
 * One vehicle's state during a run: where it is and how it moves, its tank and counters,
 * what it is doing now and what it will do next, the trip, stop and day being recorded,
 * its tracker's coverage, and the outbox of messages and truth records not yet collected.
 *
 * Every time is a whole second counted from the run's start (`…S`); `Context.iso` turns one
 * into ISO 8601.
 */
import { distanceM, type LatLon, type Place } from '../kupang.js';
import type { Kinematics, Route } from '../movement.js';
import type { Payload } from '../formats.js';
import type { Rng } from '../random.js';
import type { Accumulator, StopActivity, TripPurpose, TruthRecord, PlaceRef } from '../truth.js';
import type { VehicleSetup } from '../vehicles.js';
import type { ReadingTruth, SimMessage } from './messages.js';
import type { ResolvedFleetOptions } from './settings.js';

/** What the whole fleet shares: the settings and the run's clock. */
export interface Context {
  opts: ResolvedFleetOptions;
  /** A second of the run as ISO 8601 UTC. */
  iso(s: number): string;
}

/** One step of what a vehicle does where it has arrived. */
export type Segment = { kind: 'park'; durationS: number } | { kind: 'idle'; durationS: number } | { kind: 'refuel' } | { kind: 'phantom' };

export function parkFor(durationS: number): Segment {
  return { kind: 'park', durationS: Math.max(1, Math.round(durationS)) };
}

export function idleFor(durationS: number): Segment {
  return { kind: 'idle', durationS: Math.max(1, Math.round(durationS)) };
}

/** A place to drive to, why, and what to do there. */
export interface Job {
  place: Place;
  purpose: TripPurpose;
  dwell: Segment[];
  /** Part of the working day: dropped when the day is over. */
  work: boolean;
}

export type ParkActivity = { kind: 'park'; untilS: number; phantomStation: Place | null };
export type IdleActivity = { kind: 'idle'; untilS: number };
export type DriveActivity = { kind: 'drive'; route: Route; job: Job };
export interface RefuelActivity {
  kind: 'refuel';
  /** Paid and gone: the pump stopped at pumpUntilS. */
  untilS: number;
  pumpFromS: number;
  pumpUntilS: number;
  levelBeforeLitres: number;
  litres: number;
  station: Place;
}
export interface DrainActivity {
  kind: 'drain';
  fromS: number;
  untilS: number;
  /** What the thief means to take; the tank may hold less. */
  targetLitres: number;
  takenLitres: number;
  levelBeforeLitres: number;
  ignition: boolean;
  /** The parking or idling the drain interrupted, taken up again after it. */
  resume: ParkActivity | IdleActivity | null;
}
/** What the vehicle is doing now. */
export type Activity = ParkActivity | IdleActivity | DriveActivity | RefuelActivity | DrainActivity;

/** A drain planned for the night, started when the vehicle stands there. */
export interface PendingDrain {
  atS: number;
  fractionOfTank: number;
  litresPerS: number;
  ignition: boolean;
}

/** The day's plan, drawn once per vehicle and WITA day (schedule.ts). */
export interface DayPlan {
  window: { fromS: number; toS: number } | null;
  privateTrip: { atS: number; place: Place; stayS: number; done: boolean } | null;
  outOfCity: { place: Place; stayS: number; done: boolean } | null;
}

export interface OpenTrip {
  startS: number;
  start: PlaceRef;
  distanceM: number;
  litresUsed: number;
  idleS: number;
  maxSpeedMps: number;
  purpose: TripPurpose;
  leftCity: boolean;
}

export interface OpenStop {
  startS: number;
  position: LatLon;
  placeName: string | null;
  engineOnS: number;
  activities: StopActivity[];
}

/** Out of coverage: the tracker keeps its readings and sends them at endS. */
export interface Outage {
  startS: number;
  endS: number;
  payloads: Payload[];
  truth: ReadingTruth[];
}

/** A message or a truth record, stamped with the second it happened at. */
export interface Output {
  keyS: number;
  message?: SimMessage;
  record?: TruthRecord;
}

export interface VehicleState {
  /** Its place in the fleet: outputs of one second are ordered by it. */
  index: number;
  setup: VehicleSetup;
  // Random streams, one per concern, so that one kind of event does not shift the others.
  moveRng: Rng;
  noiseRng: Rng;
  fraudRng: Rng;
  offlineRng: Rng;
  callsRng: Rng;
  snapshotRng: Rng;
  tS: number;
  kin: Kinematics;
  place: Place | null;
  odometerM: number;
  startOdometerM: number;
  levelLitres: number;
  /** The engine's fuel counter (CAN): litres burnt since the vehicle was new. */
  counterLitres: number;
  ignition: boolean;
  activity: Activity;
  segments: Segment[];
  departJob: Job | null;
  jobs: Job[];
  plans: Map<number, DayPlan>;
  drains: PendingDrain[];
  nextCallS: number;
  /** Fraudulent receipts owed, each not before a time: a phantom visit, a receipt from elsewhere. */
  phantomDueS: number[];
  elsewhereDueS: number[];
  lastRefuelS: number;
  trip: OpenTrip | null;
  stop: OpenStop | null;
  run: Accumulator;
  day: Accumulator;
  dayFromS: number;
  nextDayS: number;
  nextReadingS: number;
  lastReadingS: number;
  seq: number;
  readings: number;
  badFixes: number;
  ranDryS: number;
  outage: Outage | null;
  nextOutageS: number;
  receipts: number;
  out: Output[];
}

/** Closer than this to a place is being there. */
const AT_PLACE_M = 50;

export function isAt(s: VehicleState, place: LatLon): boolean {
  return distanceM(s.kin.position, place) < AT_PLACE_M;
}

export function atHome(s: VehicleState): boolean {
  return isAt(s, s.setup.home);
}

export function publish(s: VehicleState, message: SimMessage): void {
  s.out.push({ keyS: s.tS, message });
}

export function emit(s: VehicleState, record: TruthRecord): void {
  s.out.push({ keyS: s.tS, record });
}
