/**
 * Fuel physics: how much an engine burns, and what a tank sensor shows of it.
 *
 * Consumption. The rated figure (L/100 km) is what the vehicle uses on a typical city
 * drive. The model spreads it over speeds: cheapest around 45–55 km/h, dearer crawling
 * (the engine turns for little distance) and fast (air drag), plus the work of
 * accelerating. Averaged over the simulator's city driving it lands within a few
 * per cent of the rated figure; a single day may differ by up to about 15 % (lots of
 * crawling or open road). With the engine on and the wheels still, the engine burns the
 * idle figure (L/h). These constants were fitted by running the fleet (see
 * tests/unit/simulator-physics.test.ts for the bounds that hold).
 *
 * Sensor. A tank sensor reports the true level plus gaussian noise (σ litres), plus
 * slosh while moving — a shift proportional to the acceleration (fuel runs to the back
 * when speeding up, to the front when braking) and a random wobble — scaled with the
 * tank's size, then quantised to its resolution and clamped to the tank.
 */
import { gaussian, type Rng } from './random.js';

const SPEED_OPTIMUM_KMH = 50;
const SPEED_BASE_FACTOR = 0.895;
const SPEED_CURVE = 0.33;
/** Extra rated-litres per metre per m/s² of acceleration. */
const ACCEL_FACTOR_PER_MPS2 = 0.6;

/** Consumption at this speed and acceleration, as a multiple of the rated L/100 km. */
export function drivingFactor(speedKmh: number, accelMps2: number): number {
  const x = (speedKmh - SPEED_OPTIMUM_KMH) / 40;
  return SPEED_BASE_FACTOR + SPEED_CURVE * Math.min(x * x, 4) + ACCEL_FACTOR_PER_MPS2 * Math.max(0, accelMps2);
}

/** Litres burnt covering `movedM` at a mean speed and acceleration. */
export function drivingLitres(ratedLitresPer100Km: number, movedM: number, meanSpeedKmh: number, accelMps2: number): number {
  return (ratedLitresPer100Km * movedM * drivingFactor(meanSpeedKmh, accelMps2)) / 100_000;
}

export function idleLitres(idleLitresPerHour: number, seconds: number): number {
  return (idleLitresPerHour * seconds) / 3600;
}

export interface TankSensorOptions {
  /** σ of the gaussian noise on every reading, litres. */
  noiseSigmaLitres: number;
  /** Resolution: readings are whole multiples of this, litres (0: no quantisation). */
  stepLitres: number;
  /** Slosh shift per m/s² of acceleration, litres, for a 60 L tank (scaled with the tank). */
  sloshLitresPerMps2: number;
  /** σ of the random wobble while moving, litres, for a 60 L tank (scaled with the tank). */
  sloshSigmaLitres: number;
  /** Resolution of the CAN fuel counter, litres. */
  counterStepLitres: number;
}

export const DEFAULT_TANK_SENSOR: TankSensorOptions = {
  noiseSigmaLitres: 0.4,
  stepLitres: 0.1,
  sloshLitresPerMps2: 1.5,
  sloshSigmaLitres: 0.5,
  counterStepLitres: 0.1,
};

export function quantise(value: number, step: number): number {
  if (!(step > 0)) return value;
  // Rounding the quotient and fixing the decimals keeps 12.3 from printing as 12.299999999999999.
  const decimals = Math.max(0, Math.ceil(-Math.log10(step)) + 1);
  return Number((Math.round(value / step) * step).toFixed(decimals));
}

/**
 * What a level sensor reads, in litres. Always draws the same number of values from
 * `rng`, so the stream does not depend on whether the vehicle moves.
 */
export function sensedLevelLitres(
  trueLitres: number,
  capacityLitres: number,
  moving: boolean,
  accelMps2: number,
  rng: Rng,
  opts: TankSensorOptions,
): number {
  const noise = gaussian(rng) * opts.noiseSigmaLitres;
  const wobble = gaussian(rng);
  const scale = capacityLitres / 60;
  const slosh = moving ? scale * (opts.sloshLitresPerMps2 * accelMps2 + opts.sloshSigmaLitres * wobble) : 0;
  const value = Math.min(capacityLitres, Math.max(0, trueLitres + noise + slosh));
  return Math.min(capacityLitres, Math.max(0, quantise(value, opts.stepLitres)));
}
