/**
 * What a vehicle's tracker sends: a reading every intervalS with the ignition on (every
 * parkedIntervalS with it off, and at once when it changes), with GPS noise, the tank
 * sensor's noise, steps and slosh, the battery's voltage — and the true state behind it.
 * Out of coverage the reading waits in the tracker (tracker-faults.ts).
 */
import { encodeFix, topicFor, type Fix } from '../formats.js';
import { altitudeM } from '../kupang.js';
import { mpsToKmh } from '../movement.js';
import { quantise, sensedLevelLitres } from '../physics.js';
import { gaussian, uniform, type Rng } from '../random.js';
import type { ReadingTruth, SimMessage } from './messages.js';
import { publish, type Context, type VehicleState } from './state.js';
import { badFixKind, bufferReading, fixQuality, reportedPosition } from './tracker-faults.js';
import { round1, round2, round6LatLon } from './units.js';

export function setIgnition(s: VehicleState, on: boolean): void {
  if (s.ignition === on) return;
  s.ignition = on;
  // Trackers report an ignition change at once.
  s.nextReadingS = Math.min(s.nextReadingS, Math.max(s.tS, s.lastReadingS + 1));
}

/** The reading the tracker would take now (its `seq` is left 0), and the truth behind it. */
export function buildFix(s: VehicleState, ctx: Context, rng: Rng): { fix: Fix; truth: ReadingTruth } {
  const { opts } = ctx;
  const spec = s.setup.spec;
  // Every draw is made on every reading, used or not, so that the stream stays in step.
  const hdop = round1(uniform(rng, 0.7, 1.5));
  const northM = gaussian(rng) * opts.gpsNoiseM;
  const eastM = gaussian(rng) * opts.gpsNoiseM;
  const badRoll = rng();
  const jumpBearingRad = rng() * 2 * Math.PI;
  const jumpM = uniform(rng, 2000, 30_000);
  const speedNoiseKmh = gaussian(rng) * 0.3;
  const batteryNoiseV = gaussian(rng) * 0.05;
  const altitudeNoiseM = gaussian(rng) * 3;
  const satellites = 7 + Math.floor(rng() * 6);
  const phoneBatteryPercent = 80 + Math.floor(rng() * 15);
  const moving = s.kin.speedMps > 0;
  const capacityLitres = spec.tankCapacityLitres;
  const sensedLitres = sensedLevelLitres(s.levelLitres, capacityLitres, moving, s.kin.accelMps2, rng, opts.sensor);

  const badFix = badFixKind(badRoll, opts.badFixRate);
  const fixPosition = round6LatLon(
    reportedPosition(s.kin.position, badFix, { northM, eastM }, { bearingRad: jumpBearingRad, distanceM: jumpM }),
  );
  const quality = fixQuality(badFix, satellites, hdop);
  const fix: Fix = {
    atMs: opts.startMs + s.tS * 1000,
    lat: fixPosition.lat,
    lon: fixPosition.lon,
    speedKmh: moving ? round1(Math.max(0, mpsToKmh(s.kin.speedMps) + speedNoiseKmh)) : 0,
    headingDeg: Math.round(s.kin.headingDeg) % 360,
    altitudeM: round1(altitudeM(s.kin.position) + altitudeNoiseM),
    satellites: quality.satellites,
    hdop: quality.hdop,
    accuracyM: quality.accuracyM,
    ignition: s.ignition,
    odometerKm: Math.round(s.odometerM) / 1000,
    batteryV: round2((s.ignition ? s.setup.profile.chargingV : s.setup.profile.restingV) + batteryNoiseV),
    phoneBatteryPercent: s.ignition ? 100 : phoneBatteryPercent,
    seq: 0,
  };
  switch (spec.sensor) {
    case 'litres':
      fix.fuelLitres = sensedLitres;
      break;
    case 'percent':
      fix.fuelPercent = round1((100 * sensedLitres) / capacityLitres);
      break;
    case 'counter':
      fix.fuelUsedLitres = quantise(s.counterLitres, opts.sensor.counterStepLitres);
      // J1939 reports the level in steps of 0.4 %.
      if (spec.counterWithLevel !== false) fix.fuelPercent = quantise((100 * sensedLitres) / capacityLitres, 0.4);
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

/** Takes the reading that is due: published now, or kept while out of coverage. */
export function takeReading(s: VehicleState, ctx: Context): void {
  const { fix, truth } = buildFix(s, ctx, s.noiseRng);
  s.seq += 1;
  fix.seq = s.seq;
  s.readings += 1;
  if (truth.badFix) s.badFixes += 1;
  s.lastReadingS = s.tS;
  s.nextReadingS = s.tS + (s.ignition ? ctx.opts.intervalS : ctx.opts.parkedIntervalS);
  const deviceId = s.setup.spec.deviceId;
  const payload = encodeFix(ctx.opts.format, deviceId, fix);
  if (s.outage) {
    bufferReading(s, ctx, payload, truth);
    return;
  }
  const message: SimMessage = { atMs: fix.atMs, deviceId, topic: topicFor(ctx.opts.format, deviceId), payload, readings: 1 };
  if (ctx.opts.readingTruth) message.truth = [truth];
  publish(s, message);
}
