/**
 * How a vehicle gets from one place to another: a road-like path (the straight line bent
 * at a point or two, through a city gate when one end is outside Kupang), cut into
 * stretches between junctions, and driven one second at a time — accelerating to the
 * stretch's cruising speed, braking in time for its end, standing at red lights.
 */
import { bearingDeg, cityGates, clampToLand, distanceM, interpolate, isInKupang, offsetM, type LatLon } from './kupang.js';
import { chance, gaussian, uniform, type Rng } from './random.js';
import type { DrivingProfile } from './vehicles.js';

export interface Leg {
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

export interface Route {
  legs: Leg[];
  legIndex: number;
  onLegM: number;
  /** The vehicle stands at a junction until this second. */
  stoppedUntilS: number;
}

export interface Kinematics {
  position: LatLon;
  headingDeg: number;
  speedMps: number;
  /** Change of speed over the last second; 0 while standing. */
  accelMps2: number;
}

export const kmhToMps = (kmh: number): number => kmh / 3.6;
export const mpsToKmh = (mps: number): number => mps * 3.6;

/** Every trip ends with a creep at least this fast, so that arrival takes finite time. */
const CREEP_MPS = 1;
/** Route bends stay this far from the sea and the region's edge. */
const WAYPOINT_MARGIN_M = 150;

function bentPath(rng: Rng, from: LatLon, to: LatLon): LatLon[] {
  const straightM = distanceM(from, to);
  const bends = straightM < 2500 ? (chance(rng, 0.5) ? 1 : 0) : chance(rng, 0.5) ? 2 : 1;
  const headingRad = (bearingDeg(from, to) * Math.PI) / 180;
  const points = [from];
  for (let i = 1; i <= bends; i++) {
    const along = interpolate(from, to, i / (bends + 1) + uniform(rng, -0.08, 0.08));
    const sideM = Math.max(-700, Math.min(700, gaussian(rng) * 0.12 * straightM));
    // Perpendicular to the heading: rotate (north, east) by 90 degrees.
    points.push(clampToLand(offsetM(along, -Math.sin(headingRad) * sideM, Math.cos(headingRad) * sideM), WAYPOINT_MARGIN_M));
  }
  points.push(to);
  return points;
}

function nearestGate(p: LatLon): LatLon {
  let best = cityGates[0]!;
  for (const g of cityGates) if (distanceM(g, p) < distanceM(best, p)) best = g;
  return best;
}

/** The corners of the path: through the gate nearest the outside end when the trip leaves or enters the city. */
export function routeWaypoints(rng: Rng, from: LatLon, to: LatLon): LatLon[] {
  const fromInside = isInKupang(from);
  const toInside = isInKupang(to);
  if (fromInside === toInside) return bentPath(rng, from, to);
  const gate = nearestGate(fromInside ? to : from);
  return [...bentPath(rng, from, gate), ...bentPath(rng, gate, to).slice(1)];
}

/** What a junction between two stretches does to the traffic: nothing, a slowdown, or a red light. */
function junction(rng: Rng, isBend: boolean, inCity: boolean): { exitKmh: number | null; stopS: number } {
  if (chance(rng, (isBend ? 0.25 : 0.1) * (inCity ? 1 : 0.3))) return { exitKmh: 0, stopS: Math.round(uniform(rng, 10, 50)) };
  if (isBend) return { exitKmh: uniform(rng, 12, 22), stopS: 0 };
  if (chance(rng, inCity ? 0.35 : 0.1)) return { exitKmh: uniform(rng, 10, 20), stopS: 0 };
  return { exitKmh: null, stopS: 0 };
}

export function planRoute(rng: Rng, profile: DrivingProfile, from: LatLon, to: LatLon, nowS: number): Route {
  const waypoints = routeWaypoints(rng, from, to);
  const legs: Leg[] = [];
  for (let w = 1; w < waypoints.length; w++) {
    const a = waypoints[w - 1]!;
    const b = waypoints[w]!;
    const roadM = distanceM(a, b);
    if (roadM < 1) continue;
    const inCity = isInKupang(interpolate(a, b, 0.5));
    const cruiseKmh = inCity ? uniform(rng, 20, profile.maxCityKmh) : uniform(rng, 0.75 * profile.maxOpenRoadKmh, profile.maxOpenRoadKmh);
    const cruiseMps = kmhToMps(cruiseKmh);
    const pieces = Math.max(1, Math.round(roadM / uniform(rng, inCity ? 300 : 800, inCity ? 700 : 2000)));
    for (let p = 0; p < pieces; p++) {
      const isLastOfRoad = p === pieces - 1;
      const isLastOfTrip = isLastOfRoad && w === waypoints.length - 1;
      const j = isLastOfTrip ? { exitKmh: 0, stopS: 0 } : junction(rng, isLastOfRoad, inCity);
      legs.push({
        from: interpolate(a, b, p / pieces),
        to: interpolate(a, b, (p + 1) / pieces),
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
  return { legs, legIndex: 0, onLegM: 0, stoppedUntilS: nowS };
}

export interface SecondDriven {
  movedM: number;
  /** Mean speed over the second, for the consumption model. */
  meanSpeedMps: number;
  arrived: boolean;
}

/**
 * One second of driving, ending at second `tS`: accelerate towards the leg's cruise
 * speed, brake in time for its end, stand at a red light.
 */
export function driveOneSecond(kin: Kinematics, route: Route, profile: DrivingProfile, tS: number): SecondDriven {
  if (route.stoppedUntilS >= tS) {
    kin.accelMps2 = -kin.speedMps;
    kin.speedMps = 0;
    return { movedM: 0, meanSpeedMps: 0, arrived: false };
  }
  let leg = route.legs[route.legIndex]!;
  const remainingM = leg.lengthM - route.onLegM;
  const brakingLimitMps = Math.sqrt(leg.exitMps ** 2 + 2 * profile.decelMps2 * remainingM);
  const newSpeedMps = Math.max(CREEP_MPS, Math.min(kin.speedMps + profile.accelMps2, leg.cruiseMps, brakingLimitMps));
  const stepM = (kin.speedMps + newSpeedMps) / 2;
  kin.accelMps2 = newSpeedMps - kin.speedMps;
  kin.speedMps = newSpeedMps;
  let movedM = stepM;
  route.onLegM += stepM;
  while (route.onLegM >= leg.lengthM) {
    const overshootM = route.onLegM - leg.lengthM;
    if (route.legIndex === route.legs.length - 1) {
      movedM -= overshootM;
      kin.position = leg.to;
      kin.headingDeg = leg.headingDeg;
      return { movedM, meanSpeedMps: movedM, arrived: true };
    }
    route.legIndex += 1;
    if (leg.stopS > 0) {
      movedM -= overshootM;
      route.onLegM = 0;
      route.stoppedUntilS = tS + leg.stopS;
      kin.speedMps = 0;
      leg = route.legs[route.legIndex]!;
      kin.position = leg.from;
      kin.headingDeg = leg.headingDeg;
      return { movedM, meanSpeedMps: movedM, arrived: false };
    }
    route.onLegM = overshootM;
    leg = route.legs[route.legIndex]!;
  }
  kin.position = interpolate(leg.from, leg.to, Math.min(1, route.onLegM / leg.lengthM));
  kin.headingDeg = leg.headingDeg;
  return { movedM, meanSpeedMps: movedM, arrived: false };
}
