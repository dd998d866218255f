/** Fuel settings, the vehicle figures the fuel arithmetic needs, and the shared thresholds. Pure. */

export interface FuelSettings {
  refuelMinLitres: number;
  refuelMinTankPercent: number;
  drainMinLitres: number;
  drainMinTankPercent: number;
  /** Refuels (or drains) closer than this are merged into one. */
  mergeGapS: number;
  /** Width of the running median. */
  smoothingS: number;
  /** How long before and after a reading its level step is measured over. */
  stepWindowS: number;
}

export const DEFAULT_FUEL_SETTINGS: FuelSettings = Object.freeze({
  refuelMinLitres: 4,
  refuelMinTankPercent: 4,
  drainMinLitres: 3,
  drainMinTankPercent: 3,
  mergeGapS: 600,
  smoothingS: 120,
  stepWindowS: 300,
});

export interface VehicleFuelSpec {
  tankCapacityLitres: number;
  ratedLitresPer100Km: number;
  idleLitresPerHour: number;
}

export type FuelSource = 'counter' | 'sensor' | 'rated';

export interface FuelEvent {
  kind: 'refuel' | 'drain';
  /** When the level began to change. */
  atMs: number;
  endMs: number;
  lat: number;
  lon: number;
  /** Always positive: litres put in (refuel) or taken out (drain). */
  litres: number;
  levelBeforeLitres: number;
  levelAfterLitres: number;
  /** True when the vehicle was driving while it happened (drains only). */
  moving: boolean;
}

export const refuelThresholdLitres = (s: FuelSettings, tankLitres: number) =>
  Math.max(s.refuelMinLitres, (s.refuelMinTankPercent / 100) * tankLitres);
export const drainThresholdLitres = (s: FuelSettings, tankLitres: number) =>
  Math.max(s.drainMinLitres, (s.drainMinTankPercent / 100) * tankLitres);

// Shared by the level model, the event detection and the consumption fit.

/** Fewer readings than this on a side make a level too uncertain to judge a step by. */
export const MIN_SIDE_POINTS = 3;
export const MIN_SMOOTHING_POINTS = 5;
/** Moving readings this far apart are taken to slosh independently. */
export const MOVING_LAG_MS = 60_000;
/** Edge estimates look this far from the instant. */
export const EDGE_WINDOW_MS = 300_000;
/** A parked level is measured from that stretch's readings this close to its edge. */
export const PLATEAU_REACH_MS = 3 * 3600_000;
