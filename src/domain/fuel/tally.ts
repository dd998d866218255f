/**
 * Adding up litres over many days (or windows), each measured by the best source it had.
 * One source measures the whole period when it can: the counter if every active day had
 * one, else the level sensor if every active day had one. Otherwise each day counts by
 * its own best source, and the period's `fuelSource` names the weakest that was used, so
 * a report never claims more precision than its worst day had. Pure.
 */
import type { FuelSource } from './settings.js';

export interface FuelTally {
  activeUnits: number;
  activeWithoutCounter: number;
  activeWithoutSensor: number;
  anyCounter: boolean;
  anySensor: boolean;
  counterLitres: number;
  sensorLitres: number;
  ratedLitres: number;
  /** Each unit by its own best source. */
  bestLitres: number;
  idleLitres: number;
  weakest: FuelSource | null;
}

export const emptyTally = (): FuelTally => ({
  activeUnits: 0,
  activeWithoutCounter: 0,
  activeWithoutSensor: 0,
  anyCounter: false,
  anySensor: false,
  counterLitres: 0,
  sensorLitres: 0,
  ratedLitres: 0,
  bestLitres: 0,
  idleLitres: 0,
  weakest: null,
});

const RANK: Record<FuelSource, number> = { counter: 3, sensor: 2, rated: 1 };

function weaker(a: FuelSource | null, b: FuelSource): FuelSource {
  return a === null || RANK[b] < RANK[a] ? b : a;
}

/** One day or window. Active: the vehicle moved or its engine ran. */
export function addUnit(
  tally: FuelTally,
  unit: {
    active: boolean;
    source: FuelSource;
    usedLitres: number;
    counterLitres: number | null;
    sensorLitres: number | null;
    ratedLitres: number;
    idleLitres: number;
  },
): void {
  if (unit.active) {
    tally.activeUnits++;
    if (unit.counterLitres === null) tally.activeWithoutCounter++;
    if (unit.sensorLitres === null) tally.activeWithoutSensor++;
    tally.weakest = weaker(tally.weakest, unit.source);
  }
  if (unit.counterLitres !== null) {
    tally.anyCounter = true;
    tally.counterLitres += unit.counterLitres;
  }
  if (unit.sensorLitres !== null) {
    tally.anySensor = true;
    tally.sensorLitres += unit.sensorLitres;
  }
  tally.ratedLitres += unit.ratedLitres;
  tally.bestLitres += unit.usedLitres;
  tally.idleLitres += unit.idleLitres;
}

/** Many days at once, as the rollup sums give them. */
export function addRollupDays(
  tally: FuelTally,
  sums: {
    activeDays: number;
    activeWithoutCounter: number;
    activeWithoutSensor: number;
    ratedDays: number;
    sensorDays: number;
    counterLitres: number | null;
    sensorLitres: number | null;
    ratedLitres: number;
    fuelUsedLitres: number;
    idleLitres: number;
  },
): void {
  tally.activeUnits += sums.activeDays;
  tally.activeWithoutCounter += sums.activeWithoutCounter;
  tally.activeWithoutSensor += sums.activeWithoutSensor;
  if (sums.activeDays > 0) {
    const counterDays = sums.activeDays - sums.ratedDays - sums.sensorDays;
    if (sums.ratedDays > 0) tally.weakest = weaker(tally.weakest, 'rated');
    if (sums.sensorDays > 0) tally.weakest = weaker(tally.weakest, 'sensor');
    if (counterDays > 0) tally.weakest = weaker(tally.weakest, 'counter');
  }
  if (sums.counterLitres !== null) {
    tally.anyCounter = true;
    tally.counterLitres += sums.counterLitres;
  }
  if (sums.sensorLitres !== null) {
    tally.anySensor = true;
    tally.sensorLitres += sums.sensorLitres;
  }
  tally.ratedLitres += sums.ratedLitres;
  tally.bestLitres += sums.fuelUsedLitres;
  tally.idleLitres += sums.idleLitres;
}

export function resolveTally(tally: FuelTally): { fuelSource: FuelSource; usedLitres: number } {
  if (tally.activeUnits === 0) {
    return { fuelSource: tally.anyCounter ? 'counter' : tally.anySensor ? 'sensor' : 'rated', usedLitres: Math.max(0, tally.bestLitres) };
  }
  if (tally.activeWithoutCounter === 0) return { fuelSource: 'counter', usedLitres: tally.counterLitres };
  if (tally.activeWithoutSensor === 0) return { fuelSource: 'sensor', usedLitres: tally.sensorLitres };
  return { fuelSource: tally.weakest ?? 'rated', usedLitres: tally.bestLitres };
}
