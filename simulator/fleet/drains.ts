/**
 * Fuel theft: a drain is planned (or not) for each vehicle and WITA day, at night while
 * the fleet is parked (at any hour in always-on mode), starts when the vehicle stands
 * there, takes what a hose and jerrycans take, and gives the parking or idling back.
 */
import { witaDayStartMs } from '../calendar.js';
import { distanceM, kupangFuelStations, nearestPlace } from '../kupang.js';
import { chance, stream, uniform } from '../random.js';
import type { Context, DrainActivity, VehicleState } from './state.js';
import { setIgnition } from './tracker.js';
import { noteActivity, recordDrain } from './truth-records.js';
import { DAY_S, HOUR_S } from './units.js';

/** Called at the start of the run and of every WITA day: does a drain happen tonight? */
export function planDrain(s: VehicleState, ctx: Context, dayIndex: number): void {
  const { opts } = ctx;
  const rng = stream(opts.seed, s.setup.plateNumber, 'drain', dayIndex);
  const roll = rng();
  const when = rng();
  const fractionOfTank = uniform(rng, 0.2, 0.45);
  const capacity = s.setup.spec.tankCapacityLitres;
  // A hose and jerrycans: 2–5 L a minute from a car, 5–9 from a truck's big outlet.
  const litresPerS = capacity >= 100 ? uniform(rng, 0.08, 0.15) : capacity >= 30 ? uniform(rng, 0.033, 0.083) : uniform(rng, 0.01, 0.02);
  const ignition = chance(rng, 0.2);
  if (roll >= opts.drainRatePerDay) return;
  const dayStartS = (witaDayStartMs(dayIndex) - opts.startMs) / 1000;
  // At night (21:00–04:00) when the fleet is parked; at any hour in always-on mode.
  const atS = dayStartS + Math.round(opts.schedule === 'realistic' ? (21 + 7 * when) * HOUR_S : 24 * when * HOUR_S);
  if (atS < s.tS) return;
  s.drains.push({ atS, fractionOfTank, litresPerS, ignition });
}

/** Drains planned more than a day ago and never started (the vehicle was never standing) are dropped. */
export function forgetStaleDrains(s: VehicleState): void {
  s.drains = s.drains.filter((d) => d.atS > s.tS - DAY_S);
}

/** A drain is due and the vehicle stands where a thief can work (not at a phantom station visit). */
export function drainDue(s: VehicleState): boolean {
  const d = s.drains[0];
  if (!d || s.tS < d.atS) return false;
  return (s.activity.kind === 'park' && s.activity.phantomStation === null) || s.activity.kind === 'idle';
}

/** The second the next drain may start, if the vehicle stands (parked or idling) until then. */
export function nextDrainS(s: VehicleState): number | null {
  const drain = s.drains[0];
  const a = s.activity;
  return drain && (a.kind === 'park' || a.kind === 'idle') && drain.atS > s.tS ? drain.atS : null;
}

export function startDrain(s: VehicleState): void {
  const d = s.drains.shift()!;
  const capacity = s.setup.spec.tankCapacityLitres;
  // A thief leaves enough to reach a station: a vehicle that runs dry is found out at once.
  const toStationM = distanceM(s.kin.position, nearestPlace(s.kin.position, kupangFuelStations));
  const leaveLitres = 0.08 * capacity + (2 * toStationM * s.setup.spec.ratedLitresPer100Km) / 100_000;
  const targetLitres = Math.min(capacity * d.fractionOfTank, s.levelLitres - leaveLitres);
  if (targetLitres < Math.max(0.5, 0.04 * capacity)) return;
  const interrupted = s.activity;
  const resume = (interrupted.kind === 'park' || interrupted.kind === 'idle') && interrupted.untilS > s.tS ? interrupted : null;
  const durationS = Math.max(120, Math.ceil(targetLitres / d.litresPerS));
  setIgnition(s, d.ignition);
  s.activity = {
    kind: 'drain',
    fromS: s.tS,
    untilS: s.tS + durationS,
    targetLitres,
    takenLitres: 0,
    levelBeforeLitres: s.levelLitres,
    ignition: d.ignition,
    resume,
  };
  noteActivity(s, 'drain');
}

/** The drain is over: recorded, and the interrupted parking or idling taken up again (answers whether it was). */
export function finishDrain(s: VehicleState, ctx: Context, a: DrainActivity): boolean {
  recordDrain(s, ctx, a, a.untilS, false);
  if (a.resume && a.resume.untilS > s.tS) {
    s.activity = a.resume;
    setIgnition(s, a.resume.kind === 'idle');
    noteActivity(s, a.resume.kind === 'idle' ? 'idle' : 'park');
    return true;
  }
  return false;
}
