/**
 * One second at the wheel: the vehicle moves along its route (movement.ts), burns fuel
 * for the distance, speed and acceleration (physics.ts), and the open trip grows.
 */
import { isInKupang } from '../kupang.js';
import { driveOneSecond, mpsToKmh } from '../movement.js';
import { drivingLitres } from '../physics.js';
import type { DriveActivity, VehicleState } from './state.js';
import { burn, engineOn } from './tank.js';

/** Drives the current second; answers whether the vehicle has arrived. */
export function driveSecond(s: VehicleState, a: DriveActivity): boolean {
  const v0Mps = s.kin.speedMps;
  s.tS += 1;
  const r = driveOneSecond(s.kin, a.route, s.setup.profile, s.tS);
  if (r.movedM === 0) {
    engineOn(s, 1, true);
  } else {
    engineOn(s, 1, false);
    burn(
      s,
      drivingLitres(s.setup.spec.ratedLitresPer100Km, r.movedM, mpsToKmh(r.meanSpeedMps), Math.max(0, s.kin.speedMps - v0Mps)),
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
  return r.arrived;
}
