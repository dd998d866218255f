/**
 * A deterministic model of vehicles driving around Kupang: where they are, how fast
 * they go, and how much fuel is in the tank. Pure: no clock, no I/O, no Math.random.
 *
 * Each vehicle lives on its own one-second clock counted from `startMs`. Every random
 * choice about movement is drawn from the vehicle's own stream when a trip, a stop or a
 * park begins, so the path does not depend on how often `step()` is called; the GPS,
 * speed and battery noise come from a second stream, drawn once per reading.
 *
 * Fuel follows the rated figures exactly (rated L/100 km × distance, idle L/h × time
 * with the engine on and the wheels still), so that what the fuel reports compute
 * from rated consumption matches what the tank shows.
 */
import {
  bearingDeg,
  clampToLand,
  distanceM,
  interpolate,
  kupangDestinations,
  kupangFuelStations,
  offsetM,
  type LatLon,
  type Place,
} from './kupang.js';

export interface SimVehicle {
  deviceId: string;
  tankCapacityLitres: number;
  ratedLitresPer100Km: number;
  idleLitresPerHour: number;
  sensor: 'litres' | 'percent' | 'none';
}

export interface TelemetryPayload {
  ts: string;
  lat: number;
  lon: number;
  speedKmh: number;
  headingDeg: number;
  ignition: boolean;
  odometerKm: number;
  fuelLitres?: number;
  fuelPercent?: number;
  batteryV: number;
  satellites: number;
  hdop: number;
  seq: number;
}

export interface SimReading {
  deviceId: string;
  payload: TelemetryPayload;
}

export interface FleetSimulation {
  /**
   * Advances every vehicle to `nowMs` and answers one reading per vehicle, stamped
   * with the last whole simulated second. A call that does not reach a new second
   * (or goes back in time) answers nothing.
   */
  step(nowMs: number): SimReading[];
}

type Rng = () => number;

/** mulberry32: tiny, fast, good enough for a simulation, and identical on every platform. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, so that each vehicle's stream depends on its id and not on its place in the list. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function uniform(rng: Rng, min: number, max: number): number {
  return min + (max - min) * rng();
}

function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** Box-Muller; one normal deviate per call keeps the stream's use simple to follow. */
function gaussian(rng: Rng): number {
  const u = Math.max(rng(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

const round = (x: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
};

const kmhToMps = (kmh: number): number => kmh / 3.6;
const mpsToKmh = (mps: number): number => mps * 3.6;

/** Below this the tank is refilled at the nearest station before the next trip. */
const REFUEL_BELOW_FRACTION = 0.2;
const PUMP_LITRES_PER_S = 0.5;
/** Every trip ends with a creep at least this fast, so that arrival takes finite time. */
const CREEP_MPS = 1;
const MIN_TRIP_M = 1500;
/** Route bends stay this far from the sea and the city's edge. */
const WAYPOINT_MARGIN_M = 150;

interface Profile {
  maxCruiseKmh: number;
  accelMps2: number;
  decelMps2: number;
  /** 24 V electrics on heavy vehicles, 12 V on the rest. */
  restingV: number;
  chargingV: number;
}

/** The payload carries no vehicle kind, so the tank size stands in for it. */
function profileFor(v: SimVehicle): Profile {
  if (v.tankCapacityLitres >= 100) return { maxCruiseKmh: 40, accelMps2: 0.6, decelMps2: 1.5, restingV: 25.4, chargingV: 28.0 };
  if (v.tankCapacityLitres <= 10) return { maxCruiseKmh: 50, accelMps2: 1.5, decelMps2: 2.5, restingV: 12.7, chargingV: 14.2 };
  return { maxCruiseKmh: 50, accelMps2: 1.2, decelMps2: 2.0, restingV: 12.6, chargingV: 14.0 };
}

interface Leg {
  from: LatLon;
  to: LatLon;
  lengthM: number;
  headingDeg: number;
  cruiseMps: number;
  /** Speed at the end of the leg: a junction, a bend, or 0 at a stop or the destination. */
  exitMps: number;
  /** Seconds stood at the end of the leg with the engine running (traffic lights). */
  stopS: number;
}

type Purpose = 'visit' | 'refuel';

type Phase =
  | { kind: 'parked'; untilS: number }
  | { kind: 'idling'; untilS: number; then: 'drive' | 'park' }
  | { kind: 'refuelling'; untilS: number; pumpFromS: number; startLitres: number; targetLitres: number }
  | { kind: 'driving'; legs: Leg[]; legIndex: number; onLegM: number; stoppedUntilS: number; destination: Place; purpose: Purpose };

interface VehicleState {
  spec: SimVehicle;
  profile: Profile;
  rng: Rng;
  noiseRng: Rng;
  /** Seconds since the simulation's start. */
  tS: number;
  place: Place;
  position: LatLon;
  headingDeg: number;
  speedMps: number;
  odometerM: number;
  fuelLitres: number;
  ignition: boolean;
  phase: Phase;
  seq: number;
}

function parkDurationS(rng: Rng): number {
  return Math.round(chance(rng, 0.7) ? uniform(rng, 180, 1200) : uniform(rng, 1200, 3600));
}

function chooseDestination(rng: Rng, from: LatLon): Place {
  const candidates = kupangDestinations.filter((p) => distanceM(p, from) >= MIN_TRIP_M);
  return pick(rng, candidates.length > 0 ? candidates : kupangDestinations);
}

function nearestFuelStation(from: LatLon): Place {
  let best = kupangFuelStations[0]!;
  for (const station of kupangFuelStations) if (distanceM(station, from) < distanceM(best, from)) best = station;
  return best;
}

/** A road-like path: the straight line bent at one or two points, so trips do not all look like rulers. */
function routeWaypoints(rng: Rng, from: LatLon, to: LatLon): LatLon[] {
  const straightM = distanceM(from, to);
  const bends = straightM < 2500 ? (chance(rng, 0.5) ? 1 : 0) : chance(rng, 0.5) ? 2 : 1;
  const headingRad = (bearingDeg(from, to) * Math.PI) / 180;
  const waypoints = [from];
  for (let i = 1; i <= bends; i++) {
    const along = interpolate(from, to, i / (bends + 1) + uniform(rng, -0.08, 0.08));
    const sideM = Math.max(-700, Math.min(700, gaussian(rng) * 0.12 * straightM));
    // Perpendicular to the heading: rotate (north, east) by 90 degrees.
    const bent = offsetM(along, -Math.sin(headingRad) * sideM, Math.cos(headingRad) * sideM);
    waypoints.push(clampToLand(bent, WAYPOINT_MARGIN_M));
  }
  waypoints.push(to);
  return waypoints;
}

/** What a junction between two stretches does to the traffic: nothing, a slowdown, or a red light. */
function junction(rng: Rng, isBend: boolean): { exitKmh: number | null; stopS: number } {
  if (chance(rng, isBend ? 0.25 : 0.1)) return { exitKmh: 0, stopS: Math.round(uniform(rng, 10, 50)) };
  if (isBend) return { exitKmh: uniform(rng, 12, 22), stopS: 0 };
  if (chance(rng, 0.35)) return { exitKmh: uniform(rng, 10, 20), stopS: 0 };
  return { exitKmh: null, stopS: 0 };
}

function planLegs(rng: Rng, profile: Profile, from: LatLon, to: LatLon): Leg[] {
  const waypoints = routeWaypoints(rng, from, to);
  const legs: Leg[] = [];
  for (let w = 1; w < waypoints.length; w++) {
    const a = waypoints[w - 1]!;
    const b = waypoints[w]!;
    const roadM = distanceM(a, b);
    if (roadM < 1) continue;
    const cruiseMps = kmhToMps(uniform(rng, 20, profile.maxCruiseKmh));
    const pieces = Math.max(1, Math.round(roadM / uniform(rng, 300, 700)));
    for (let p = 0; p < pieces; p++) {
      const from = interpolate(a, b, p / pieces);
      const end = interpolate(a, b, (p + 1) / pieces);
      const isLastOfRoad = p === pieces - 1;
      const isLastOfTrip = isLastOfRoad && w === waypoints.length - 1;
      const j = isLastOfTrip ? { exitKmh: 0, stopS: 0 } : junction(rng, isLastOfRoad);
      legs.push({
        from,
        to: end,
        lengthM: roadM / pieces,
        headingDeg: bearingDeg(a, b),
        cruiseMps,
        exitMps: j.exitKmh === null ? cruiseMps : Math.min(cruiseMps, kmhToMps(j.exitKmh)),
        stopS: j.stopS,
      });
    }
  }
  // A leg must not end faster than the next one may be driven.
  for (let i = 0; i < legs.length - 1; i++) legs[i]!.exitMps = Math.min(legs[i]!.exitMps, legs[i + 1]!.cruiseMps);
  return legs;
}

function park(state: VehicleState): void {
  state.ignition = false;
  state.speedMps = 0;
  state.phase = { kind: 'parked', untilS: state.tS + parkDurationS(state.rng) };
}

function startTrip(state: VehicleState): void {
  const needsFuel = state.fuelLitres < REFUEL_BELOW_FRACTION * state.spec.tankCapacityLitres;
  const purpose: Purpose = needsFuel ? 'refuel' : 'visit';
  const destination = needsFuel ? nearestFuelStation(state.position) : chooseDestination(state.rng, state.position);
  const legs = planLegs(state.rng, state.profile, state.position, destination);
  state.ignition = true;
  if (legs.length === 0) {
    arrive(state, destination, purpose);
    return;
  }
  state.phase = { kind: 'driving', legs, legIndex: 0, onLegM: 0, stoppedUntilS: state.tS, destination, purpose };
}

/** Leaving a parking spot: sometimes the engine runs a minute or two first. */
function depart(state: VehicleState): void {
  state.ignition = true;
  if (chance(state.rng, 0.5)) state.phase = { kind: 'idling', untilS: state.tS + Math.round(uniform(state.rng, 30, 120)), then: 'drive' };
  else startTrip(state);
}

function arrive(state: VehicleState, destination: Place, purpose: Purpose): void {
  state.place = destination;
  state.position = { lat: destination.lat, lon: destination.lon };
  state.speedMps = 0;
  if (purpose === 'refuel') {
    const pumpFromS = state.tS + Math.round(uniform(state.rng, 60, 240));
    const targetLitres = state.spec.tankCapacityLitres * uniform(state.rng, 0.9, 1);
    const pumpS = Math.max(0, targetLitres - state.fuelLitres) / PUMP_LITRES_PER_S;
    state.ignition = false;
    state.phase = { kind: 'refuelling', untilS: Math.ceil(pumpFromS + pumpS + uniform(state.rng, 30, 120)), pumpFromS, startLitres: state.fuelLitres, targetLitres };
    return;
  }
  if (chance(state.rng, 0.4)) state.phase = { kind: 'idling', untilS: state.tS + Math.round(uniform(state.rng, 20, 90)), then: 'park' };
  else park(state);
}

function burnFuel(state: VehicleState, distanceM: number, idleS: number): void {
  const litres = (state.spec.ratedLitresPer100Km * distanceM) / 100_000 + (state.spec.idleLitresPerHour * idleS) / 3600;
  state.fuelLitres = Math.max(0, state.fuelLitres - litres);
}

function refuelLevel(phase: Extract<Phase, { kind: 'refuelling' }>, tS: number): number {
  const pumped = Math.max(0, tS - phase.pumpFromS) * PUMP_LITRES_PER_S;
  return Math.max(phase.startLitres, Math.min(phase.targetLitres, phase.startLitres + pumped));
}

/** One second of driving: accelerate towards the leg's cruise speed, brake in time for its end. */
function driveOneSecond(state: VehicleState, phase: Extract<Phase, { kind: 'driving' }>): void {
  state.tS += 1;
  if (phase.stoppedUntilS >= state.tS) {
    state.speedMps = 0;
    burnFuel(state, 0, 1);
    return;
  }
  let leg = phase.legs[phase.legIndex]!;
  const remainingM = leg.lengthM - phase.onLegM;
  const brakingLimitMps = Math.sqrt(leg.exitMps ** 2 + 2 * state.profile.decelMps2 * remainingM);
  const newSpeedMps = Math.max(CREEP_MPS, Math.min(state.speedMps + state.profile.accelMps2, leg.cruiseMps, brakingLimitMps));
  const stepM = (state.speedMps + newSpeedMps) / 2;
  state.speedMps = newSpeedMps;
  let movedM = stepM;
  phase.onLegM += stepM;
  while (phase.onLegM >= leg.lengthM) {
    const overshootM = phase.onLegM - leg.lengthM;
    if (phase.legIndex === phase.legs.length - 1) {
      movedM -= overshootM;
      state.odometerM += movedM;
      burnFuel(state, movedM, 0);
      state.headingDeg = leg.headingDeg;
      arrive(state, phase.destination, phase.purpose);
      return;
    }
    phase.legIndex += 1;
    if (leg.stopS > 0) {
      movedM -= overshootM;
      phase.onLegM = 0;
      phase.stoppedUntilS = state.tS + leg.stopS;
      state.speedMps = 0;
      leg = phase.legs[phase.legIndex]!;
      break;
    }
    phase.onLegM = overshootM;
    leg = phase.legs[phase.legIndex]!;
  }
  state.odometerM += movedM;
  burnFuel(state, movedM, 0);
  state.position = interpolate(leg.from, leg.to, Math.min(1, phase.onLegM / leg.lengthM));
  state.headingDeg = leg.headingDeg;
}

/**
 * Moves a vehicle to `targetS`. Standing phases are crossed in one jump, so a step over
 * days costs only the seconds actually spent driving.
 */
function advanceTo(state: VehicleState, targetS: number): void {
  while (state.tS < targetS) {
    const phase = state.phase;
    switch (phase.kind) {
      case 'driving':
        driveOneSecond(state, phase);
        break;
      case 'parked': {
        state.tS = Math.min(phase.untilS, targetS);
        if (state.tS >= phase.untilS) depart(state);
        break;
      }
      case 'idling': {
        const toS = Math.min(phase.untilS, targetS);
        burnFuel(state, 0, toS - state.tS);
        state.tS = toS;
        if (toS >= phase.untilS) {
          if (phase.then === 'drive') startTrip(state);
          else park(state);
        }
        break;
      }
      case 'refuelling': {
        const toS = Math.min(phase.untilS, targetS);
        state.fuelLitres = refuelLevel(phase, toS);
        state.tS = toS;
        if (toS >= phase.untilS) startTrip(state);
        break;
      }
    }
  }
}

function initialState(spec: SimVehicle, seed: number): VehicleState {
  const rng = mulberry32(hash32(`${seed}|${spec.deviceId}|move`));
  const noiseRng = mulberry32(hash32(`${seed}|${spec.deviceId}|noise`));
  const place = pick(rng, kupangDestinations);
  const state: VehicleState = {
    spec,
    profile: profileFor(spec),
    rng,
    noiseRng,
    tS: 0,
    place,
    position: { lat: place.lat, lon: place.lon },
    headingDeg: Math.round(uniform(rng, 0, 359)),
    speedMps: 0,
    odometerM: Math.round(uniform(rng, 3_000, 90_000)) * 1000,
    fuelLitres: spec.tankCapacityLitres * uniform(rng, 0.3, 0.95),
    ignition: false,
    phase: { kind: 'parked', untilS: 0 },
    seq: 0,
  };
  // Half the fleet is on the road at once, so that a fresh map shows movement.
  if (chance(rng, 0.5)) startTrip(state);
  else state.phase = { kind: 'parked', untilS: Math.round(uniform(rng, 0, 900)) };
  return state;
}

function reading(state: VehicleState, startMs: number): TelemetryPayload {
  const noise = state.noiseRng;
  const hdop = round(uniform(noise, 0.7, 1.5), 1);
  const gpsSigmaM = hdop * 1.5;
  const fix = offsetM(state.position, gaussian(noise) * gpsSigmaM, gaussian(noise) * gpsSigmaM);
  const moving = state.speedMps > 0;
  const speedKmh = moving ? Math.max(0, mpsToKmh(state.speedMps) + gaussian(noise) * 0.3) : 0;
  const batteryV = (state.ignition ? state.profile.chargingV : state.profile.restingV) + gaussian(noise) * 0.05;
  state.seq += 1;
  const payload: TelemetryPayload = {
    ts: new Date(startMs + state.tS * 1000).toISOString(),
    lat: round(fix.lat, 6),
    lon: round(fix.lon, 6),
    speedKmh: round(speedKmh, 1),
    headingDeg: Math.round(state.headingDeg) % 360,
    ignition: state.ignition,
    odometerKm: round(state.odometerM / 1000, 3),
    batteryV: round(batteryV, 2),
    satellites: 7 + Math.floor(noise() * 6),
    hdop,
    seq: state.seq,
  };
  const { sensor, tankCapacityLitres } = state.spec;
  if (sensor === 'litres') payload.fuelLitres = round(state.fuelLitres, 1);
  if (sensor === 'percent') payload.fuelPercent = round((100 * state.fuelLitres) / tankCapacityLitres, 1);
  return payload;
}

export function createFleetSimulation(opts: { vehicles: SimVehicle[]; seed: number; startMs: number }): FleetSimulation {
  const startMs = Math.floor(opts.startMs);
  const states = opts.vehicles.map((v) => initialState(v, opts.seed));
  let lastReportedS = -1;
  return {
    step(nowMs: number): SimReading[] {
      const targetS = Math.floor((nowMs - startMs) / 1000);
      if (targetS <= lastReportedS) return [];
      lastReportedS = targetS;
      return states.map((state) => {
        advanceTo(state, targetS);
        return { deviceId: state.spec.deviceId, payload: reading(state, startMs) };
      });
    },
  };
}
