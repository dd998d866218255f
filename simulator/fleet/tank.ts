/**
 * The tank's accounts: every litre that enters or leaves the tank passes through here,
 * and is counted in the run's and the day's totals (and the open trip's) as it does.
 */
import { idleLitres } from '../physics.js';
import type { DrainActivity, RefuelActivity, VehicleState } from './state.js';

export function burn(s: VehicleState, litres: number, kind: 'driving' | 'idle', seconds: number): void {
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
  if (s.trip) s.trip.litresUsed += actual;
}

/** The engine ran for `seconds`; `idle`: with the wheels still, burning the idle rate. */
export function engineOn(s: VehicleState, seconds: number, idle: boolean): void {
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

/** Litres the pump has put in by second `t`: linear from pumpFromS to pumpUntilS. */
export function pumpedLitresAt(a: RefuelActivity, t: number): number {
  const span = a.pumpUntilS - a.pumpFromS;
  const fraction = span <= 0 ? (t >= a.pumpUntilS ? 1 : 0) : Math.min(1, Math.max(0, (t - a.pumpFromS) / span));
  return a.litres * fraction;
}

/** Litres the thief means to have taken by second `t`: linear over the drain. */
function drainedLitresAt(a: DrainActivity, t: number): number {
  const span = a.untilS - a.fromS;
  return span <= 0 ? a.targetLitres : a.targetLitres * Math.min(1, Math.max(0, (t - a.fromS) / span));
}

/** Standing from s.tS to toS in the current (non-driving) activity. */
export function stand(s: VehicleState, toS: number): void {
  const dt = toS - s.tS;
  if (dt <= 0) return;
  const a = s.activity;
  switch (a.kind) {
    case 'idle':
      engineOn(s, dt, true);
      break;
    case 'refuel': {
      const added = pumpedLitresAt(a, toS) - pumpedLitresAt(a, s.tS);
      s.levelLitres += added;
      s.run.refuelledLitres += added;
      s.day.refuelledLitres += added;
      break;
    }
    case 'drain': {
      const taken = Math.min(s.levelLitres, drainedLitresAt(a, toS) - drainedLitresAt(a, s.tS));
      s.levelLitres -= taken;
      a.takenLitres += taken;
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
