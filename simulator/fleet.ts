/**
 * A deterministic model of a Kupang fleet: where each vehicle is, how fast it goes,
 * what its tank holds, what its tracker sends, and the ground truth of it all. Pure:
 * no clock, no I/O, no Math.random — the same seed and options give the same readings
 * and truth, however the run is cut into `advanceTo` calls.
 *
 * Each vehicle lives on its own one-second clock counted from `startMs`. It drives one
 * second at a time and crosses standing phases (parked, idling, refuelling, being
 * drained) in one jump, so a month costs only the seconds actually spent driving. What
 * it does next is decided when a phase ends, from its duty (office, shift, garbage,
 * bus), the WITA clock and its tank; the plan for each day (hours, a night-time drain,
 * an evening private trip, a trip out of the city) is drawn from a stream named after
 * the vehicle and the day.
 */
import { DAY_MS, isDutyTime, witaDate, witaDayIndex, witaDayStartMs, witaWeekday, workWindowMin } from './calendar.js';
import { backlogPayloads, encodeFix, topicFor, type ArmadaPayload, type Fix, type OutputFormat, type Payload } from './formats.js';
import {
  altitudeM,
  distanceM,
  fuelStationCode,
  isInKupang,
  kupangCollectionPoints,
  kupangDestinations,
  kupangFuelStations,
  nearestPlace,
  offsetM,
  outOfCityPlaces,
  placeByName,
  type LatLon,
  type Place,
} from './kupang.js';
import { driveOneSecond, mpsToKmh, planRoute, type Kinematics, type Route } from './movement.js';
import { DEFAULT_TANK_SENSOR, drivingLitres, idleLitres, quantise, sensedLevelLitres, type TankSensorOptions } from './physics.js';
import { chance, exponential, gaussian, logUniform, mulberry32, pick, stream, uniform, uniformInt, type Rng } from './random.js';
import { Accumulator, round6, type FraudKind, type PlaceRef, type StopActivity, type TripPurpose, type TruthRecord } from './truth.js';
import { fuelPriceOn, witaDay } from './fuel-prices.js';
import { setupVehicle, type SimVehicle, type VehicleSetup } from './vehicles.js';

export { mulberry32 };
export type { SimVehicle, SensorKind, VehicleKind, FuelType } from './vehicles.js';

/** The payload of an Armada reading (kept under its old name for the live demo's callers). */
export type TelemetryPayload = ArmadaPayload;

export interface SimReading {
  deviceId: string;
  payload: TelemetryPayload;
}

/**
 * `realistic`: duty hours, nights and weekends as a city fleet has them.
 * `always`: every vehicle runs errands around the clock, so that a demo started at
 * night still shows traffic.
 */
export type ScheduleMode = 'realistic' | 'always';

export interface FleetOptions {
  vehicles: SimVehicle[];
  seed: number;
  /** Simulated time at the start, epoch ms (floored to a whole second). */
  startMs: number;
  schedule?: ScheduleMode;
  format?: OutputFormat;
  /** Seconds between readings with the ignition on (whole seconds, ≥ 1). Default 10. */
  intervalS?: number;
  /** Seconds between readings with the ignition off. Default max(intervalS, 60). */
  parkedIntervalS?: number;
  sensor?: Partial<TankSensorOptions>;
  /** σ of the GPS error per axis, metres. Default 3. */
  gpsNoiseM?: number;
  /** Fraction of readings that are bad fixes: half at (0, 0), half jumped 2–30 km. Default 0.001. */
  badFixRate?: number;
  /** Drains per vehicle per day. Default 0.02. */
  drainRatePerDay?: number;
  /** Fractions of refuels followed by a fraudulent receipt of each kind. */
  fraud?: { inflated?: number; phantom?: number; elsewhere?: number };
  /** Private evening trips per office vehicle per day. Default 0.03. */
  afterHoursRatePerDay?: number;
  /** Official trips out of the city per office vehicle per working day. Default 0.05. */
  outOfCityRatePerDay?: number;
  /** Coverage losses per vehicle per day (5 minutes to 4 hours each). Default 0.15. */
  offlineRatePerDay?: number;
  /** Attach the true state to every reading (`SimMessage.truth`), for tests. */
  readingTruth?: boolean;
}

export interface ResolvedFleetOptions {
  seed: number;
  startMs: number;
  schedule: ScheduleMode;
  format: OutputFormat;
  intervalS: number;
  parkedIntervalS: number;
  sensor: TankSensorOptions;
  gpsNoiseM: number;
  badFixRate: number;
  drainRatePerDay: number;
  fraud: { inflated: number; phantom: number; elsewhere: number };
  afterHoursRatePerDay: number;
  outOfCityRatePerDay: number;
  offlineRatePerDay: number;
  readingTruth: boolean;
}

/** The true state behind one reading. */
export interface ReadingTruth {
  atMs: number;
  lat: number;
  lon: number;
  levelLitres: number;
  speedKmh: number;
  accelMps2: number;
  ignition: boolean;
  badFix: 'null-island' | 'jump' | null;
}

/** One MQTT message: a reading, or a backlog flushed when coverage came back. */
export interface SimMessage {
  /** When the device publishes it (a backlog: when coverage returns). */
  atMs: number;
  deviceId: string;
  topic: string;
  payload: Payload | Payload[];
  readings: number;
  truth?: ReadingTruth[];
}

export interface AdvanceResult {
  messages: SimMessage[];
  truth: TruthRecord[];
}

export interface FleetSimulation {
  readonly options: ResolvedFleetOptions;
  readonly vehicles: readonly VehicleSetup[];
  /** Simulated time reached, epoch ms. */
  nowMs(): number;
  /**
   * Runs every vehicle up to `nowMs` (the last whole second) and answers the messages
   * published and the truth records finished on the way, in time order.
   */
  advanceTo(nowMs: number): AdvanceResult;
  /**
   * Closes the run at the time reached: open trips, stops and events, day and vehicle
   * summaries, and the backlog of devices still out of coverage (sent at the end).
   */
  finish(): AdvanceResult;
  /**
   * Advances to `nowMs` and answers one snapshot reading per vehicle (Armada format),
   * discarding the scheduled messages. For displays that only want the latest state.
   */
  step(nowMs: number): SimReading[];
}

const HOUR_S = 3600;
const DAY_S = 86_400;
/** Below this fraction of the tank the vehicle refuels before its next errand. */
const REFUEL_BELOW_FRACTION = 0.25;
/** A trip out of the city starts with at least this much in the tank. */
const OUT_OF_CITY_MIN_FRACTION = 0.5;
const AT_PLACE_M = 50;
const MIN_TRIP_M = 1500;
/** An "elsewhere" receipt names a station at least this far from the parked vehicle. */
const ELSEWHERE_MIN_M = 3000;
const MAX_BACKLOG_READINGS = 20_000;

export function resolveFleetOptions(opts: Omit<FleetOptions, 'vehicles'>): ResolvedFleetOptions {
  const intervalS = opts.intervalS ?? 10;
  const parkedIntervalS = opts.parkedIntervalS ?? Math.max(intervalS, 60);
  for (const [name, value] of [
    ['intervalS', intervalS],
    ['parkedIntervalS', parkedIntervalS],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of seconds ≥ 1, got ${value}`);
  }
  const rate = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${name} must be a number ≥ 0, got ${v}`);
    return v;
  };
  const sensor = { ...DEFAULT_TANK_SENSOR, ...opts.sensor };
  for (const [k, v] of Object.entries(sensor)) if (!(v >= 0)) throw new Error(`sensor.${k} must be ≥ 0, got ${v}`);
  const badFixRate = rate('badFixRate', opts.badFixRate, 0.001);
  if (badFixRate > 1) throw new Error(`badFixRate is a fraction of readings, got ${badFixRate}`);
  return {
    seed: opts.seed,
    startMs: Math.floor(opts.startMs / 1000) * 1000,
    schedule: opts.schedule ?? 'realistic',
    format: opts.format ?? 'armada',
    intervalS,
    parkedIntervalS,
    sensor,
    gpsNoiseM: rate('gpsNoiseM', opts.gpsNoiseM, 3),
    badFixRate,
    drainRatePerDay: rate('drainRatePerDay', opts.drainRatePerDay, 0.02),
    fraud: {
      inflated: rate('fraud.inflated', opts.fraud?.inflated, 0.05),
      phantom: rate('fraud.phantom', opts.fraud?.phantom, 0.02),
      elsewhere: rate('fraud.elsewhere', opts.fraud?.elsewhere, 0.02),
    },
    afterHoursRatePerDay: rate('afterHoursRatePerDay', opts.afterHoursRatePerDay, 0.03),
    outOfCityRatePerDay: rate('outOfCityRatePerDay', opts.outOfCityRatePerDay, 0.05),
    offlineRatePerDay: rate('offlineRatePerDay', opts.offlineRatePerDay, 0.15),
    readingTruth: opts.readingTruth ?? false,
  };
}

// ---------------------------------------------------------------------------------
// Vehicle state

type Segment = { kind: 'park'; durationS: number } | { kind: 'idle'; durationS: number } | { kind: 'refuel' } | { kind: 'phantom' };

interface Job {
  place: Place;
  purpose: TripPurpose;
  dwell: Segment[];
  /** Part of the working day: dropped when the day is over. */
  work: boolean;
}

type Activity =
  | { kind: 'park'; untilS: number; phantomStation: Place | null }
  | { kind: 'idle'; untilS: number }
  | { kind: 'drive'; route: Route; job: Job }
  | { kind: 'refuel'; untilS: number; pumpFromS: number; pumpUntilS: number; levelBefore: number; litres: number; station: Place }
  | {
      kind: 'drain';
      fromS: number;
      untilS: number;
      litres: number;
      taken: number;
      levelBefore: number;
      ignition: boolean;
      resume: Activity | null;
    };

interface DayPlan {
  window: { fromS: number; toS: number } | null;
  privateTrip: { atS: number; place: Place; stayS: number; done: boolean } | null;
  outOfCity: { place: Place; stayS: number; done: boolean } | null;
}

interface PendingDrain {
  atS: number;
  fraction: number;
  ratePerS: number;
  ignition: boolean;
}

interface OpenTrip {
  startS: number;
  start: PlaceRef;
  distanceM: number;
  litres: number;
  idleS: number;
  maxSpeedMps: number;
  purpose: TripPurpose;
  leftCity: boolean;
}

interface OpenStop {
  startS: number;
  position: LatLon;
  place: string | null;
  engineOnS: number;
  activities: StopActivity[];
}

interface Outage {
  startS: number;
  endS: number;
  payloads: Payload[];
  truth: ReadingTruth[];
}

interface Output {
  keyS: number;
  message?: SimMessage;
  record?: TruthRecord;
}

interface VehicleState {
  index: number;
  setup: VehicleSetup;
  move: Rng;
  noise: Rng;
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
  pendingPhantoms: number[];
  pendingElsewheres: number[];
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

interface Context {
  opts: ResolvedFleetOptions;
  iso(s: number): string;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;
const round6LatLon = (p: LatLon): LatLon => ({ lat: Math.round(p.lat * 1e6) / 1e6, lon: Math.round(p.lon * 1e6) / 1e6 });

function placeRef(s: VehicleState): PlaceRef {
  const p = round6LatLon(s.kin.position);
  return { lat: p.lat, lon: p.lon, place: s.place?.name ?? null };
}

function atHome(s: VehicleState): boolean {
  return distanceM(s.kin.position, s.setup.home) < AT_PLACE_M;
}

function emit(s: VehicleState, record: TruthRecord): void {
  s.out.push({ keyS: s.tS, record });
}

function vehicleRef(s: VehicleState) {
  return { deviceId: s.setup.spec.deviceId, plateNumber: s.setup.plateNumber };
}

// ---------------------------------------------------------------------------------
// Fuel accounting: every litre that enters or leaves the tank passes through here.

function burn(s: VehicleState, litres: number, kind: 'driving' | 'idle', seconds: number): void {
  const actual = Math.min(litres, s.levelLitres);
  if (actual < litres) s.ranDryS += seconds;
  s.levelLitres -= actual;
  s.counterLitres += actual;
  if (kind === 'driving') {
    s.run.drivingLitres += actual;
    s.day.drivingLitres += actual;
  } else {
    s.run.idleLitres += actual;
    s.day.idleLitres += actual;
  }
  if (s.trip) s.trip.litres += actual;
}

function engineOn(s: VehicleState, seconds: number, idle: boolean): void {
  s.run.engineS += seconds;
  s.day.engineS += seconds;
  if (idle) {
    s.run.idleS += seconds;
    s.day.idleS += seconds;
    if (s.trip) s.trip.idleS += seconds;
    burn(s, idleLitres(s.setup.spec.idleLitresPerHour, seconds), 'idle', seconds);
  }
  if (s.stop) s.stop.engineOnS += seconds;
}

function refuelLevelAt(a: Extract<Activity, { kind: 'refuel' }>, t: number): number {
  const span = a.pumpUntilS - a.pumpFromS;
  const fraction = span <= 0 ? (t >= a.pumpUntilS ? 1 : 0) : Math.min(1, Math.max(0, (t - a.pumpFromS) / span));
  return a.litres * fraction;
}

function drainedAt(a: Extract<Activity, { kind: 'drain' }>, t: number): number {
  const span = a.untilS - a.fromS;
  return span <= 0 ? a.litres : a.litres * Math.min(1, Math.max(0, (t - a.fromS) / span));
}

/** Standing from s.tS to toS in the current (non-driving) activity. */
function stand(s: VehicleState, toS: number): void {
  const dt = toS - s.tS;
  if (dt <= 0) return;
  const a = s.activity;
  switch (a.kind) {
    case 'idle':
      engineOn(s, dt, true);
      break;
    case 'refuel': {
      const added = refuelLevelAt(a, toS) - refuelLevelAt(a, s.tS);
      s.levelLitres += added;
      s.run.refuelledLitres += added;
      s.day.refuelledLitres += added;
      break;
    }
    case 'drain': {
      const taken = Math.min(s.levelLitres, drainedAt(a, toS) - drainedAt(a, s.tS));
      s.levelLitres -= taken;
      a.taken += taken;
      s.run.drainedLitres += taken;
      s.day.drainedLitres += taken;
      if (a.ignition) engineOn(s, dt, true);
      break;
    }
    case 'park':
    case 'drive':
      break;
  }
  s.tS = toS;
}

function driveSecond(s: VehicleState, ctx: Context): void {
  const a = s.activity as Extract<Activity, { kind: 'drive' }>;
  const v0 = s.kin.speedMps;
  s.tS += 1;
  const r = driveOneSecond(s.kin, a.route, s.setup.profile, s.tS);
  if (r.movedM === 0) {
    engineOn(s, 1, true);
  } else {
    engineOn(s, 1, false);
    burn(
      s,
      drivingLitres(s.setup.spec.ratedLitresPer100Km, r.movedM, mpsToKmh(r.meanSpeedMps), Math.max(0, s.kin.speedMps - v0)),
      'driving',
      1,
    );
    s.odometerM += r.movedM;
    s.run.distanceM += r.movedM;
    s.day.distanceM += r.movedM;
    const trip = s.trip!;
    trip.distanceM += r.movedM;
    if (s.kin.speedMps > trip.maxSpeedMps) trip.maxSpeedMps = s.kin.speedMps;
    if (!trip.leftCity && !isInKupang(s.kin.position)) trip.leftCity = true;
  }
  if (r.arrived) arrive(s, a.job, ctx);
}

// ---------------------------------------------------------------------------------
// Readings

function setIgnition(s: VehicleState, on: boolean): void {
  if (s.ignition === on) return;
  s.ignition = on;
  // Trackers report an ignition change at once.
  s.nextReadingS = Math.min(s.nextReadingS, Math.max(s.tS, s.lastReadingS + 1));
}

function buildFix(s: VehicleState, ctx: Context, rng: Rng): { fix: Fix; truth: ReadingTruth } {
  const { opts } = ctx;
  const spec = s.setup.spec;
  const hdop = round1(uniform(rng, 0.7, 1.5));
  const northM = gaussian(rng) * opts.gpsNoiseM;
  const eastM = gaussian(rng) * opts.gpsNoiseM;
  const badRoll = rng();
  const jumpBearing = rng() * 2 * Math.PI;
  const jumpM = uniform(rng, 2000, 30_000);
  const speedNoise = gaussian(rng) * 0.3;
  const batteryNoise = gaussian(rng) * 0.05;
  const altNoise = gaussian(rng) * 3;
  const satellites = 7 + Math.floor(rng() * 6);
  const phoneBattery = 80 + Math.floor(rng() * 15);
  const moving = s.kin.speedMps > 0;
  const sensed = sensedLevelLitres(s.levelLitres, spec.tankCapacityLitres, moving, s.kin.accelMps2, rng, opts.sensor);

  const badFix: ReadingTruth['badFix'] = badRoll < opts.badFixRate / 2 ? 'null-island' : badRoll < opts.badFixRate ? 'jump' : null;
  let position = offsetM(s.kin.position, northM, eastM);
  if (badFix === 'jump') position = offsetM(s.kin.position, Math.cos(jumpBearing) * jumpM, Math.sin(jumpBearing) * jumpM);
  if (badFix === 'null-island') position = { lat: 0, lon: 0 };
  const fixPosition = round6LatLon(position);
  const fix: Fix = {
    atMs: opts.startMs + s.tS * 1000,
    lat: fixPosition.lat,
    lon: fixPosition.lon,
    speedKmh: moving ? round1(Math.max(0, mpsToKmh(s.kin.speedMps) + speedNoise)) : 0,
    headingDeg: Math.round(s.kin.headingDeg) % 360,
    altitudeM: round1(altitudeM(s.kin.position) + altNoise),
    satellites: badFix === 'null-island' ? 0 : badFix === 'jump' ? 3 : satellites,
    hdop: badFix === null ? hdop : 25,
    accuracyM: badFix === null ? Math.max(3, Math.round(hdop * 4)) : 120,
    ignition: s.ignition,
    odometerKm: Math.round(s.odometerM) / 1000,
    batteryV: round2((s.ignition ? s.setup.profile.chargingV : s.setup.profile.restingV) + batteryNoise),
    phoneBatteryPercent: s.ignition ? 100 : phoneBattery,
    seq: 0,
  };
  const capacity = spec.tankCapacityLitres;
  switch (spec.sensor) {
    case 'litres':
      fix.fuelLitres = sensed;
      break;
    case 'percent':
      fix.fuelPercent = round1((100 * sensed) / capacity);
      break;
    case 'counter':
      fix.fuelUsedLitres = quantise(s.counterLitres, opts.sensor.counterStepLitres);
      // J1939 reports the level in steps of 0.4 %.
      if (spec.counterWithLevel !== false) fix.fuelPercent = quantise((100 * sensed) / capacity, 0.4);
      break;
    case 'none':
      break;
  }
  const truth: ReadingTruth = {
    atMs: fix.atMs,
    lat: s.kin.position.lat,
    lon: s.kin.position.lon,
    levelLitres: s.levelLitres,
    speedKmh: mpsToKmh(s.kin.speedMps),
    accelMps2: moving ? s.kin.accelMps2 : 0,
    ignition: s.ignition,
    badFix,
  };
  return { fix, truth };
}

function emitReading(s: VehicleState, ctx: Context): void {
  const { fix, truth } = buildFix(s, ctx, s.noise);
  s.seq += 1;
  fix.seq = s.seq;
  s.readings += 1;
  if (truth.badFix) s.badFixes += 1;
  s.lastReadingS = s.tS;
  s.nextReadingS = s.tS + (s.ignition ? ctx.opts.intervalS : ctx.opts.parkedIntervalS);
  const deviceId = s.setup.spec.deviceId;
  const payload = encodeFix(ctx.opts.format, deviceId, fix);
  if (s.outage) {
    s.outage.payloads.push(payload);
    if (ctx.opts.readingTruth) s.outage.truth.push(truth);
    if (s.outage.payloads.length > MAX_BACKLOG_READINGS) {
      s.outage.payloads.shift();
      s.outage.truth.shift();
    }
    return;
  }
  const message: SimMessage = { atMs: fix.atMs, deviceId, topic: topicFor(ctx.opts.format, deviceId), payload, readings: 1 };
  if (ctx.opts.readingTruth) message.truth = [truth];
  s.out.push({ keyS: s.tS, message });
}

function flushOutage(s: VehicleState, ctx: Context, incomplete: boolean): void {
  const outage = s.outage!;
  s.outage = null;
  const deviceId = s.setup.spec.deviceId;
  const topic = topicFor(ctx.opts.format, deviceId);
  let offset = 0;
  for (const payload of backlogPayloads(ctx.opts.format, outage.payloads)) {
    const count = Array.isArray(payload) ? payload.length : 1;
    const message: SimMessage = { atMs: ctx.opts.startMs + s.tS * 1000, deviceId, topic, payload, readings: count };
    if (ctx.opts.readingTruth) message.truth = outage.truth.slice(offset, offset + count);
    offset += count;
    s.out.push({ keyS: s.tS, message });
  }
  emit(s, {
    type: 'offline',
    ...vehicleRef(s),
    startAt: ctx.iso(outage.startS),
    endAt: ctx.iso(s.tS),
    readings: outage.payloads.length,
    ...(incomplete ? { incomplete: true as const } : {}),
  });
  s.nextOutageS = nextOutageFrom(s, ctx, s.tS);
}

function nextOutageFrom(s: VehicleState, ctx: Context, fromS: number): number {
  const rate = ctx.opts.offlineRatePerDay;
  const wait = exponential(s.offlineRng, rate > 0 ? rate / DAY_S : 1);
  return rate > 0 ? fromS + Math.max(60, Math.round(wait)) : Number.POSITIVE_INFINITY;
}

// ---------------------------------------------------------------------------------
// Truth: trips, stops, days

function openStop(s: VehicleState): void {
  s.stop = { startS: s.tS, position: { ...s.kin.position }, place: s.place?.name ?? null, engineOnS: 0, activities: [] };
}

function noteActivity(s: VehicleState, activity: StopActivity): void {
  if (s.stop && s.stop.activities.at(-1) !== activity) s.stop.activities.push(activity);
}

function closeStop(s: VehicleState, ctx: Context, incomplete: boolean): void {
  const stop = s.stop;
  s.stop = null;
  if (!stop || s.tS === stop.startS) return;
  const p = round6LatLon(stop.position);
  emit(s, {
    type: 'stop',
    ...vehicleRef(s),
    startAt: ctx.iso(stop.startS),
    endAt: ctx.iso(s.tS),
    durationS: s.tS - stop.startS,
    lat: p.lat,
    lon: p.lon,
    place: stop.place,
    engineOnS: stop.engineOnS,
    activities: stop.activities,
    ...(incomplete ? { incomplete: true as const } : {}),
  });
}

function closeTrip(s: VehicleState, ctx: Context, incomplete: boolean): void {
  const trip = s.trip;
  s.trip = null;
  if (!trip) return;
  s.run.trips += 1;
  s.day.trips += 1;
  emit(s, {
    type: 'trip',
    ...vehicleRef(s),
    startAt: ctx.iso(trip.startS),
    endAt: ctx.iso(s.tS),
    durationS: s.tS - trip.startS,
    distanceKm: round6(trip.distanceM / 1000),
    litresUsed: round6(trip.litres),
    idleS: trip.idleS,
    maxSpeedKmh: round1(mpsToKmh(trip.maxSpeedMps)),
    start: trip.start,
    end: placeRef(s),
    purpose: trip.purpose,
    outsideWorkingHours: !isDutyTime(s.setup.duty, ctx.opts.startMs + trip.startS * 1000),
    leftCity: trip.leftCity,
    ...(incomplete ? { incomplete: true as const } : {}),
  });
}

function totalsFor(s: VehicleState, acc: Accumulator) {
  return acc.totals(s.levelLitres, s.setup.spec.ratedLitresPer100Km, s.setup.spec.idleLitresPerHour);
}

function emitDay(s: VehicleState, ctx: Context, partialEnd: boolean): void {
  const dayIndex = witaDayIndex(ctx.opts.startMs + s.dayFromS * 1000);
  const dayStartS = (witaDayStartMs(dayIndex) - ctx.opts.startMs) / 1000;
  emit(s, {
    type: 'day',
    ...vehicleRef(s),
    date: witaDate(ctx.opts.startMs + s.dayFromS * 1000),
    from: ctx.iso(s.dayFromS),
    to: ctx.iso(s.tS),
    partial: partialEnd || s.dayFromS > dayStartS,
    ...totalsFor(s, s.day),
  });
  s.day = new Accumulator(s.levelLitres);
  s.dayFromS = s.tS;
}

// ---------------------------------------------------------------------------------
// Plans: what a vehicle's day holds

function dayPlan(s: VehicleState, ctx: Context, dayIndex: number): DayPlan {
  const cached = s.plans.get(dayIndex);
  if (cached) return cached;
  const { opts } = ctx;
  const rng = stream(opts.seed, s.setup.plateNumber, 'day', dayIndex);
  const dayStartS = (witaDayStartMs(dayIndex) - opts.startMs) / 1000;
  const u = Array.from({ length: 10 }, () => rng());
  const window = workWindowMin(s.setup.duty, witaWeekday(dayIndex), u[0]!, u[1]!);
  const isOffice = s.setup.duty === 'office';
  const realistic = opts.schedule === 'realistic';
  const privateTrip =
    realistic && isOffice && u[2]! < opts.afterHoursRatePerDay
      ? {
          atS: dayStartS + Math.round((18.5 + 3 * u[3]!) * HOUR_S),
          place:
            u[4]! < 0.3
              ? pick(mulberry32(Math.floor(u[5]! * 2 ** 32)), outOfCityPlaces)
              : pick(mulberry32(Math.floor(u[5]! * 2 ** 32)), kupangDestinations),
          stayS: Math.round(uniform(mulberry32(Math.floor(u[6]! * 2 ** 32)), 45, 180) * 60),
          done: false,
        }
      : null;
  const outOfCity =
    realistic && isOffice && window && u[7]! < opts.outOfCityRatePerDay
      ? { place: pick(mulberry32(Math.floor(u[8]! * 2 ** 32)), outOfCityPlaces), stayS: Math.round((30 + 60 * u[9]!) * 60), done: false }
      : null;
  const plan: DayPlan = {
    window: window ? { fromS: dayStartS + Math.round(window.fromMin * 60), toS: dayStartS + Math.round(window.toMin * 60) } : null,
    privateTrip,
    outOfCity,
  };
  s.plans.set(dayIndex, plan);
  for (const old of s.plans.keys()) if (old < dayIndex - 2) s.plans.delete(old);
  return plan;
}

/** Called at the start of the run and of every WITA day: does a drain happen tonight? */
function planDrain(s: VehicleState, ctx: Context, dayIndex: number): void {
  const { opts } = ctx;
  const rng = stream(opts.seed, s.setup.plateNumber, 'drain', dayIndex);
  const roll = rng();
  const when = rng();
  const fraction = uniform(rng, 0.2, 0.45);
  const capacity = s.setup.spec.tankCapacityLitres;
  // A hose and jerrycans: 2–5 L a minute from a car, 5–9 from a truck's big outlet.
  const ratePerS = capacity >= 100 ? uniform(rng, 0.08, 0.15) : capacity >= 30 ? uniform(rng, 0.033, 0.083) : uniform(rng, 0.01, 0.02);
  const ignition = chance(rng, 0.2);
  if (roll >= opts.drainRatePerDay) return;
  const dayStartS = (witaDayStartMs(dayIndex) - opts.startMs) / 1000;
  // At night (21:00–04:00) when the fleet is parked; at any hour in always-on mode.
  const atS = dayStartS + Math.round(opts.schedule === 'realistic' ? (21 + 7 * when) * HOUR_S : 24 * when * HOUR_S);
  if (atS < s.tS) return;
  s.drains.push({ atS, fraction, ratePerS, ignition });
}

function drainDue(s: VehicleState): boolean {
  const d = s.drains[0];
  if (!d || s.tS < d.atS) return false;
  return (s.activity.kind === 'park' && s.activity.phantomStation === null) || s.activity.kind === 'idle';
}

// ---------------------------------------------------------------------------------
// Activities

function parkFor(durationS: number): Segment {
  return { kind: 'park', durationS: Math.max(1, Math.round(durationS)) };
}

function idleFor(durationS: number): Segment {
  return { kind: 'idle', durationS: Math.max(1, Math.round(durationS)) };
}

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
      startPark(s, ctx, s.tS + Math.round(uniform(s.move, 120, 360)), s.place ?? nearestPlace(s.kin.position, kupangFuelStations));
      return;
    case 'refuel': {
      const station = s.place ?? nearestPlace(s.kin.position, kupangFuelStations);
      const litres = refuelLitres(s, fuelPriceOn(s.setup.fuelType, witaDay(ctx.opts.startMs + s.tS * 1000)));
      const queueS = Math.round(uniform(s.move, 30, 300));
      const payS = Math.round(uniform(s.move, 30, 120));
      if (litres < 0.5) {
        startPark(s, ctx, s.tS + queueS);
        return;
      }
      setIgnition(s, false);
      const pumpFromS = s.tS + queueS;
      const pumpUntilS = pumpFromS + Math.ceil(litres / s.setup.profile.pumpLitresPerS);
      s.activity = { kind: 'refuel', untilS: pumpUntilS + payS, pumpFromS, pumpUntilS, levelBefore: s.levelLitres, litres, station };
      noteActivity(s, 'refuel');
      return;
    }
  }
}

/** To the brim most of the time; otherwise a round amount of litres or rupiah, as a voucher or a driver's cash allows. */
function refuelLitres(s: VehicleState, price: number): number {
  const capacity = s.setup.spec.tankCapacityLitres;
  const free = capacity - s.levelLitres;
  const fillUp = chance(s.move, 0.65);
  const brim = free * uniform(s.move, 0.96, 1);
  const amounts =
    capacity >= 100 ? [50, 75, 100, 150] : capacity >= 30 ? [20, 25, 30, 40, 150_000 / price, 200_000 / price, 300_000 / price] : [free];
  const amount = pick(s.move, amounts);
  return Math.max(0, Math.min(free, fillUp || capacity < 30 ? brim : amount));
}

function startDrain(s: VehicleState): void {
  const d = s.drains.shift()!;
  const capacity = s.setup.spec.tankCapacityLitres;
  // A thief leaves enough to reach a station: a vehicle that runs dry is found out at once.
  const toStationM = distanceM(s.kin.position, nearestPlace(s.kin.position, kupangFuelStations));
  const leaveLitres = 0.08 * capacity + (2 * toStationM * s.setup.spec.ratedLitresPer100Km) / 100_000;
  const litres = Math.min(capacity * d.fraction, s.levelLitres - leaveLitres);
  if (litres < Math.max(0.5, 0.04 * capacity)) return;
  const interrupted = s.activity;
  const resume = (interrupted.kind === 'park' || interrupted.kind === 'idle') && interrupted.untilS > s.tS ? interrupted : null;
  const durationS = Math.max(120, Math.ceil(litres / d.ratePerS));
  setIgnition(s, d.ignition);
  s.activity = {
    kind: 'drain',
    fromS: s.tS,
    untilS: s.tS + durationS,
    litres,
    taken: 0,
    levelBefore: s.levelLitres,
    ignition: d.ignition,
    resume,
  };
  noteActivity(s, 'drain');
}

function receiptNo(ctx: Context, s: VehicleState, station: Place, atS: number): string {
  const stationNo = fuelStationCode(station);
  const stamp = ctx.iso(atS).replace(/[-:T]/g, '').slice(0, 12);
  s.receipts += 1;
  const tail = stream(ctx.opts.seed, s.setup.plateNumber, 'receipt', s.receipts)();
  return `${stationNo}-${stamp}-${String(Math.floor(tail * 10_000)).padStart(4, '0')}`;
}

function emitReceipt(
  s: VehicleState,
  ctx: Context,
  station: Place,
  atS: number,
  litres: number,
  filledLitres: number,
  fraud: FraudKind | null,
  refuelEndS: number | null,
): void {
  // The price in force on the receipt's day in Kupang (WITA).
  const price = fuelPriceOn(s.setup.fuelType, witaDay(ctx.opts.startMs + atS * 1000));
  const printed = round2(litres);
  emit(s, {
    type: 'receipt',
    ...vehicleRef(s),
    at: ctx.iso(atS),
    litres: printed,
    amountIdr: Math.round(printed * price),
    fuelType: s.setup.fuelType,
    priceIdrPerLitre: price,
    station: station.name,
    stationCode: fuelStationCode(station),
    lat: station.lat,
    lon: station.lon,
    receiptNo: receiptNo(ctx, s, station, atS),
    fraud,
    filledLitres: round6(filledLitres),
    refuelEndAt: refuelEndS === null ? null : ctx.iso(refuelEndS),
  });
}

/** A parked vehicle far from a station, during the working day: a receipt from there says fuel was bought where it was not. */
function maybeElsewhereReceipt(s: VehicleState, ctx: Context, parkS: number): void {
  if (!(s.pendingElsewheres[0]! <= s.tS) || parkS < 20 * 60) return;
  if (ctx.opts.schedule === 'realistic' && !isDutyTime(s.setup.duty, ctx.opts.startMs + s.tS * 1000)) return;
  const far = kupangFuelStations.filter((st) => distanceM(st, s.kin.position) >= ELSEWHERE_MIN_M);
  if (far.length === 0) return;
  s.pendingElsewheres.shift();
  const station = pick(s.fraudRng, far);
  const atS = s.tS + Math.round(uniform(s.fraudRng, 300, parkS - 300));
  const litres = s.setup.spec.tankCapacityLitres * uniform(s.fraudRng, 0.4, 0.8);
  emitReceipt(s, ctx, station, atS, litres, 0, 'elsewhere', null);
}

function finishActivity(s: VehicleState, ctx: Context): void {
  const a = s.activity;
  switch (a.kind) {
    case 'park':
      if (a.phantomStation) {
        const litres = s.setup.spec.tankCapacityLitres * uniform(s.fraudRng, 0.3, 0.7);
        emitReceipt(s, ctx, a.phantomStation, s.tS, litres, 0, 'phantom', null);
      }
      break;
    case 'refuel': {
      s.run.refuels += 1;
      s.day.refuels += 1;
      s.lastRefuelS = s.tS;
      const station = a.station;
      emit(s, {
        type: 'refuel',
        ...vehicleRef(s),
        startAt: ctx.iso(a.pumpFromS),
        endAt: ctx.iso(a.pumpUntilS),
        lat: station.lat,
        lon: station.lon,
        station: station.name,
        litres: round6(a.litres),
        levelBeforeLitres: round6(a.levelBefore),
        levelAfterLitres: round6(a.levelBefore + a.litres),
      });
      const r = s.fraudRng;
      const inflated = chance(r, ctx.opts.fraud.inflated);
      const inflation = uniform(r, 1.15, 1.6);
      const minExtra = s.setup.spec.tankCapacityLitres >= 30 ? 5 : 1;
      // Later, so that the fraud does not sit next to an honest fill: a day or more for a
      // phantom visit, hours for a receipt from elsewhere.
      const phantomAfterS = s.tS + Math.round(uniform(r, 1, 4) * DAY_S);
      const elsewhereAfterS = s.tS + Math.round(uniform(r, 3, 48) * HOUR_S);
      if (chance(r, ctx.opts.fraud.phantom)) s.pendingPhantoms.push(phantomAfterS);
      if (chance(r, ctx.opts.fraud.elsewhere)) s.pendingElsewheres.push(elsewhereAfterS);
      const claimed = inflated ? Math.max(a.litres * inflation, a.litres + minExtra) : a.litres;
      emitReceipt(s, ctx, station, s.tS, claimed, a.litres, inflated ? 'inflated' : null, a.pumpUntilS);
      break;
    }
    case 'drain': {
      s.run.drains += 1;
      s.day.drains += 1;
      const p = round6LatLon(s.kin.position);
      emit(s, {
        type: 'drain',
        ...vehicleRef(s),
        startAt: ctx.iso(a.fromS),
        endAt: ctx.iso(a.untilS),
        lat: p.lat,
        lon: p.lon,
        place: s.place?.name ?? null,
        litres: round6(a.taken),
        ignition: a.ignition,
        levelBeforeLitres: round6(a.levelBefore),
        levelAfterLitres: round6(s.levelLitres),
      });
      if (a.resume && a.resume.kind !== 'drive' && 'untilS' in a.resume && a.resume.untilS > s.tS) {
        s.activity = a.resume;
        setIgnition(s, a.resume.kind === 'idle');
        noteActivity(s, a.resume.kind === 'idle' ? 'idle' : 'park');
        return;
      }
      break;
    }
    case 'idle':
    case 'drive':
      break;
  }
  nextSegment(s, ctx);
}

function nextSegment(s: VehicleState, ctx: Context): void {
  const seg = s.segments.shift();
  if (seg) {
    startSegment(s, ctx, seg);
    return;
  }
  if (s.departJob) {
    const job = s.departJob;
    s.departJob = null;
    drive(s, ctx, job);
    return;
  }
  decideNext(s, ctx);
}

function drive(s: VehicleState, ctx: Context, job: Job): void {
  closeStop(s, ctx, false);
  setIgnition(s, true);
  s.trip = { startS: s.tS, start: placeRef(s), distanceM: 0, litres: 0, idleS: 0, maxSpeedMps: 0, purpose: job.purpose, leftCity: false };
  s.place = null;
  s.activity = { kind: 'drive', route: planRoute(s.move, s.setup.profile, s.kin.position, job.place, s.tS), job };
}

function arrive(s: VehicleState, job: Job, ctx: Context): void {
  s.kin.position = { lat: job.place.lat, lon: job.place.lon };
  s.kin.speedMps = 0;
  s.kin.accelMps2 = 0;
  s.place = job.place;
  closeTrip(s, ctx, false);
  openStop(s);
  s.segments = [...job.dwell];
  if (s.segments.length === 0) s.segments.push(chance(s.move, 0.4) ? idleFor(uniform(s.move, 20, 90)) : parkFor(1));
  nextSegment(s, ctx);
}

/** Leaves for a job: refuelling first when the tank is low, a phantom station visit when one is owed. */
function startJob(s: VehicleState, ctx: Context, job: Job): void {
  const capacity = s.setup.spec.tankCapacityLitres;
  // Roads are longer than the straight line, and the figure is for an average drive: a margin both ways.
  const neededLitres = (1.5 * distanceM(s.kin.position, job.place) * s.setup.spec.ratedLitresPer100Km * 1.3) / 100_000;
  const short = s.levelLitres - neededLitres < 0.1 * capacity;
  const low =
    short ||
    (job.purpose !== 'home' && s.levelLitres < REFUEL_BELOW_FRACTION * capacity) ||
    (job.purpose === 'out-of-city' && s.levelLitres < OUT_OF_CITY_MIN_FRACTION * capacity);
  const chores: TripPurpose[] = ['home', 'refuel', 'phantom', 'private', 'call-out'];
  if (low && job.purpose !== 'refuel') {
    s.jobs.unshift(job);
    job = { place: nearestPlace(s.kin.position, kupangFuelStations), purpose: 'refuel', dwell: [{ kind: 'refuel' }], work: false };
  } else if (s.pendingPhantoms[0]! <= s.tS && s.tS - s.lastRefuelS > 6 * HOUR_S && !chores.includes(job.purpose)) {
    s.pendingPhantoms.shift();
    s.jobs.unshift(job);
    job = { place: nearestPlace(s.kin.position, kupangFuelStations), purpose: 'phantom', dwell: [{ kind: 'phantom' }], work: false };
  }
  if (distanceM(s.kin.position, job.place) < AT_PLACE_M) {
    // Already there: do what is to be done without driving.
    s.place = job.place;
    s.segments = job.dwell.length > 0 ? [...job.dwell] : [parkFor(60)];
    nextSegment(s, ctx);
    return;
  }
  s.departJob = job;
  s.segments = chance(s.move, 0.5) ? [idleFor(uniform(s.move, 30, 120))] : [];
  nextSegment(s, ctx);
}

function destinationFrom(s: VehicleState, places: readonly Place[]): Place {
  const far = places.filter((p) => distanceM(p, s.kin.position) >= MIN_TRIP_M);
  return pick(s.move, far.length > 0 ? far : places);
}

function roamingJob(s: VehicleState): Job {
  const dwell: Segment[] = [];
  if (chance(s.move, 0.4)) dwell.push(idleFor(uniform(s.move, 20, 90)));
  dwell.push(parkFor(chance(s.move, 0.7) ? uniform(s.move, 180, 1200) : uniform(s.move, 1200, 3600)));
  return { place: destinationFrom(s, kupangDestinations), purpose: 'errand', dwell, work: true };
}

const BUS_ROUTE = [
  'Terminal Kota Lama',
  'Pasar Oeba',
  'Kantor Gubernur NTT',
  'Pasar Oebobo',
  'Lippo Plaza Kupang',
  'Universitas Nusa Cendana',
];

function workJobs(s: VehicleState, plan: DayPlan, untilS: number): Job[] {
  const r = s.move;
  const cap = (durationS: number) => Math.max(60, Math.min(durationS, untilS - s.tS));
  switch (s.setup.duty) {
    case 'office': {
      const trip = plan.outOfCity;
      if (trip && !trip.done && untilS - s.tS > 3 * HOUR_S) {
        trip.done = true;
        return [{ place: trip.place, purpose: 'out-of-city', dwell: [parkFor(trip.stayS)], work: true }];
      }
      if (!atHome(s) && chance(r, 0.35))
        return [{ place: s.setup.home, purpose: 'errand', dwell: [parkFor(cap(logUniform(r, 20 * 60, 150 * 60)))], work: true }];
      const dwell: Segment[] = chance(r, 0.4) ? [idleFor(uniform(r, 20, 90))] : [];
      dwell.push(parkFor(cap(logUniform(r, 10 * 60, 100 * 60))));
      return [{ place: destinationFrom(s, kupangDestinations), purpose: 'errand', dwell, work: true }];
    }
    case 'garbage': {
      if (untilS - s.tS < 90 * 60) return [];
      const truck = s.setup.kind !== 'motorcycle';
      const jobs: Job[] = [];
      const n = truck ? uniformInt(r, 3, 6) : uniformInt(r, 4, 8);
      for (let i = 0; i < n; i++) {
        const dwell = truck ? [idleFor(uniform(r, 240, 720))] : [parkFor(uniform(r, 120, 480))];
        jobs.push({ place: pick(r, kupangCollectionPoints), purpose: 'collection', dwell, work: true });
      }
      const landfill = placeByName('TPA Alak')!;
      if (truck)
        jobs.push({
          place: landfill,
          purpose: 'landfill',
          dwell: [idleFor(uniform(r, 120, 300)), parkFor(uniform(r, 300, 900))],
          work: true,
        });
      else jobs.push({ place: s.setup.home, purpose: 'errand', dwell: [parkFor(uniform(r, 600, 1200))], work: true });
      return jobs;
    }
    case 'bus': {
      if (untilS - s.tS < 45 * 60) return [];
      const stops = [...BUS_ROUTE.slice(1), ...BUS_ROUTE.slice(0, -1).reverse()].map((name) => placeByName(name)!);
      return stops.map((place, i) => {
        const terminal = i === stops.length - 1;
        return {
          place,
          purpose: 'bus-stop' as const,
          dwell: terminal ? [idleFor(uniform(r, 30, 90)), parkFor(uniform(r, 600, 1200))] : [idleFor(uniform(r, 30, 120))],
          work: true,
        };
      });
    }
    case 'shift':
      return [];
  }
}

function homeJob(s: VehicleState): Job {
  return { place: s.setup.home, purpose: 'home', dwell: chance(s.move, 0.4) ? [idleFor(uniform(s.move, 20, 90))] : [], work: false };
}

function nextCallFrom(s: VehicleState, ctx: Context, fromS: number): number {
  // Call-outs: about 0.3 an hour by day, 0.1 at night (thinning of a 0.3/h process).
  let t = fromS;
  for (;;) {
    t += Math.max(60, Math.round(exponential(s.callsRng, 0.3 / HOUR_S)));
    const hour = ((ctx.opts.startMs + t * 1000 + 8 * HOUR_S * 1000) % DAY_MS) / (HOUR_S * 1000);
    const rate = hour >= 7 && hour < 22 ? 0.3 : 0.1;
    if (s.callsRng() < rate / 0.3) return t;
  }
}

function decideNext(s: VehicleState, ctx: Context): void {
  const t = s.tS;
  const realistic = ctx.opts.schedule === 'realistic';
  const dayIndex = witaDayIndex(ctx.opts.startMs + t * 1000);
  const plan = dayPlan(s, ctx, dayIndex);
  const window = plan.window;
  const inWindow = window !== null && t >= window.fromS && t < window.toS;

  if (s.jobs.length > 0) {
    if (realistic && s.setup.duty !== 'shift' && !inWindow && s.jobs[0]!.work) s.jobs = [];
    else return startJob(s, ctx, s.jobs.shift()!);
  }
  if (!realistic) return startJob(s, ctx, roamingJob(s));

  const evening = plan.privateTrip;
  if (evening && !evening.done && t >= evening.atS) {
    evening.done = true;
    s.jobs.push(homeJob(s));
    return startJob(s, ctx, { place: evening.place, purpose: 'private', dwell: [parkFor(evening.stayS)], work: false });
  }

  if (s.setup.duty === 'shift') {
    if (t >= s.nextCallS) {
      s.nextCallS = nextCallFrom(s, ctx, t);
      s.jobs.push(homeJob(s));
      const dwell = [idleFor(uniform(s.move, 300, 900)), parkFor(uniform(s.move, 300, 1800))];
      return startJob(s, ctx, { place: destinationFrom(s, kupangDestinations), purpose: 'call-out', dwell, work: true });
    }
    if (!atHome(s)) return startJob(s, ctx, homeJob(s));
    return startPark(s, ctx, s.nextCallS);
  }

  if (inWindow && t < window.toS - 15 * 60) {
    s.jobs = workJobs(s, plan, window.toS);
    if (s.jobs.length > 0) return startJob(s, ctx, s.jobs.shift()!);
  }
  if (!atHome(s)) return startJob(s, ctx, homeJob(s));
  // At home with nothing to do: wait for the working day, the evening's trip or midnight.
  const dayEndS = (witaDayStartMs(dayIndex + 1) - ctx.opts.startMs) / 1000;
  let wakeS = dayEndS;
  if (inWindow) wakeS = Math.min(wakeS, window.toS);
  else if (window && t < window.fromS) wakeS = Math.min(wakeS, window.fromS);
  if (evening && !evening.done && evening.atS > t) wakeS = Math.min(wakeS, evening.atS);
  startPark(s, ctx, wakeS);
}

// ---------------------------------------------------------------------------------
// The clock

/** Everything due at the current second: day change, coverage, phase ends, drains, a reading. */
function processNow(s: VehicleState, ctx: Context): void {
  for (let guard = 0; ; guard++) {
    if (guard > 10_000) throw new Error(`simulator: vehicle ${s.setup.spec.deviceId} is stuck at second ${s.tS}`);
    if (s.tS >= s.nextDayS) {
      emitDay(s, ctx, false);
      const dayIndex = witaDayIndex(ctx.opts.startMs + s.tS * 1000);
      s.nextDayS = (witaDayStartMs(dayIndex + 1) - ctx.opts.startMs) / 1000;
      s.drains = s.drains.filter((d) => d.atS > s.tS - DAY_S);
      planDrain(s, ctx, dayIndex);
      continue;
    }
    if (s.outage && s.tS >= s.outage.endS) {
      flushOutage(s, ctx, false);
      continue;
    }
    if (!s.outage && s.tS >= s.nextOutageS) {
      s.outage = { startS: s.tS, endS: s.tS + Math.round(logUniform(s.offlineRng, 300, 4 * HOUR_S)), payloads: [], truth: [] };
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
      emitReading(s, ctx);
      continue;
    }
    return;
  }
}

function advanceVehicle(s: VehicleState, ctx: Context, targetS: number): void {
  processNow(s, ctx);
  while (s.tS < targetS) {
    const a = s.activity;
    if (a.kind === 'drive') {
      driveSecond(s, ctx);
    } else {
      let next = Math.min(targetS, a.untilS, s.nextReadingS, s.nextDayS, s.outage ? s.outage.endS : s.nextOutageS);
      const drain = s.drains[0];
      if (drain && (a.kind === 'park' || a.kind === 'idle') && drain.atS > s.tS) next = Math.min(next, drain.atS);
      stand(s, Math.max(next, s.tS + 1));
    }
    processNow(s, ctx);
  }
}

function initialState(setup: VehicleSetup, index: number, ctx: Context): VehicleState {
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
  const resumedLevel = resume?.levelLitres;
  const levelLitres =
    resumedLevel !== undefined && resumedLevel !== null && Number.isFinite(resumedLevel)
      ? Math.min(capacity, Math.max(0, resumedLevel))
      : drawnLevelLitres;
  const firstReadingS = Math.floor(init() * Math.min(opts.intervalS, 10));
  const dayIndex = witaDayIndex(opts.startMs);
  const s: VehicleState = {
    index,
    setup,
    move: stream(opts.seed, id, 'move'),
    noise: stream(opts.seed, id, 'noise'),
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
    pendingPhantoms: [],
    pendingElsewheres: [],
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
      const job = roamingJob(s);
      s.departJob = job;
      nextSegment(s, ctx);
    }
  }
  return s;
}

function finishVehicle(s: VehicleState, ctx: Context): void {
  const a = s.activity;
  if (a.kind === 'refuel' && s.tS > a.pumpFromS) {
    const litres = refuelLevelAt(a, s.tS);
    s.run.refuels += 1;
    s.day.refuels += 1;
    emit(s, {
      type: 'refuel',
      ...vehicleRef(s),
      startAt: ctx.iso(a.pumpFromS),
      endAt: ctx.iso(Math.min(s.tS, a.pumpUntilS)),
      lat: a.station.lat,
      lon: a.station.lon,
      station: a.station.name,
      litres: round6(litres),
      levelBeforeLitres: round6(a.levelBefore),
      levelAfterLitres: round6(a.levelBefore + litres),
      incomplete: true,
    });
  }
  if (a.kind === 'drain' && s.tS > a.fromS) {
    s.run.drains += 1;
    s.day.drains += 1;
    const p = round6LatLon(s.kin.position);
    emit(s, {
      type: 'drain',
      ...vehicleRef(s),
      startAt: ctx.iso(a.fromS),
      endAt: ctx.iso(s.tS),
      lat: p.lat,
      lon: p.lon,
      place: s.place?.name ?? null,
      litres: round6(a.taken),
      ignition: a.ignition,
      levelBeforeLitres: round6(a.levelBefore),
      levelAfterLitres: round6(s.levelLitres),
      incomplete: true,
    });
  }
  closeTrip(s, ctx, true);
  closeStop(s, ctx, true);
  if (s.outage) flushOutage(s, ctx, true);
  if (s.tS > s.dayFromS) emitDay(s, ctx, true);
  const spec = s.setup.spec;
  emit(s, {
    type: 'vehicle',
    ...vehicleRef(s),
    kind: s.setup.kind,
    fuelType: s.setup.fuelType,
    duty: s.setup.duty,
    home: s.setup.home.name,
    sensor: spec.sensor,
    tankCapacityLitres: spec.tankCapacityLitres,
    ratedLitresPer100Km: spec.ratedLitresPer100Km,
    idleLitresPerHour: spec.idleLitresPerHour,
    startOdometerKm: s.startOdometerM / 1000,
    endOdometerKm: round6(s.odometerM / 1000),
    readings: s.readings,
    badFixes: s.badFixes,
    ranDryS: s.ranDryS,
    ...totalsFor(s, s.run),
  });
}

function collect(states: VehicleState[]): AdvanceResult {
  const tagged: Array<Output & { v?: number }> = [];
  for (const s of states) {
    for (const o of s.out as Array<Output & { v?: number }>) {
      o.v = s.index;
      tagged.push(o);
    }
    s.out = [];
  }
  // Stable: within one vehicle and second, outputs keep the order they happened in.
  tagged.sort((a, b) => a.keyS - b.keyS || a.v! - b.v!);
  const result: AdvanceResult = { messages: [], truth: [] };
  for (const o of tagged) {
    if (o.message) result.messages.push(o.message);
    if (o.record) result.truth.push(o.record);
  }
  return result;
}

export function createFleetSimulation(options: FleetOptions): FleetSimulation {
  const opts = resolveFleetOptions(options);
  const setups = options.vehicles.map(setupVehicle);
  const ids = new Set<string>();
  const plates = new Set<string>();
  for (const v of setups) {
    if (ids.has(v.spec.deviceId)) throw new Error(`two vehicles with device id ${v.spec.deviceId}`);
    if (plates.has(v.plateNumber)) throw new Error(`two vehicles with plate ${v.plateNumber}`);
    ids.add(v.spec.deviceId);
    plates.add(v.plateNumber);
    topicFor(opts.format, v.spec.deviceId);
  }
  const ctx: Context = { opts, iso: (s) => new Date(opts.startMs + s * 1000).toISOString() };
  const states = setups.map((setup, i) => initialState(setup, i, ctx));
  let reachedS = -1;
  let finished = false;

  const advanceTo = (nowMs: number): AdvanceResult => {
    if (finished) throw new Error('the simulation has finished');
    const targetS = Math.floor((nowMs - opts.startMs) / 1000);
    if (targetS <= reachedS) return { messages: [], truth: [] };
    reachedS = targetS;
    for (const s of states) advanceVehicle(s, ctx, targetS);
    return collect(states);
  };

  return {
    options: opts,
    vehicles: setups,
    nowMs: () => opts.startMs + Math.max(0, reachedS) * 1000,
    advanceTo,
    finish(): AdvanceResult {
      if (finished) return { messages: [], truth: [] };
      const early = reachedS < 0 ? advanceTo(opts.startMs) : { messages: [], truth: [] };
      finished = true;
      for (const s of states) finishVehicle(s, ctx);
      const last = collect(states);
      // The per-vehicle summaries close the truth, after every vehicle's last events.
      const summaries = last.truth.filter((r) => r.type === 'vehicle');
      const rest = last.truth.filter((r) => r.type !== 'vehicle');
      return { messages: [...early.messages, ...last.messages], truth: [...early.truth, ...rest, ...summaries] };
    },
    step(nowMs: number): SimReading[] {
      const targetS = Math.floor((nowMs - opts.startMs) / 1000);
      if (targetS <= reachedS) return [];
      advanceTo(nowMs);
      return states.map((s) => {
        const { fix } = buildFix(s, ctx, s.snapshotRng);
        fix.seq = s.seq;
        return { deviceId: s.setup.spec.deviceId, payload: encodeFix('armada', s.setup.spec.deviceId, fix) as ArmadaPayload };
      });
    },
  };
}
