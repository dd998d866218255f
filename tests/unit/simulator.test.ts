import { describe, expect, it } from 'vitest';
import { demoDepartments, demoDeviceId, demoVehicles } from '../../src/demo/kupang-fleet.js';
import { parseTelemetryPayload } from '../../src/domain/telemetry.js';
import { createFleetSimulation, type SimReading, type SimVehicle, type TelemetryPayload } from '../../simulator/fleet.js';
import { distanceM, isOnLand, KUPANG_BOUNDS, kupangFuelStations, kupangPlaces } from '../../simulator/kupang.js';

const START_MS = Date.UTC(2026, 10, 27, 0, 0, 0);
const HOUR_S = 3600;

const demoSimVehicles: SimVehicle[] = demoVehicles.map((v) => ({
  deviceId: demoDeviceId(v.plateNumber),
  tankCapacityLitres: v.tankCapacityLitres,
  ratedLitresPer100Km: v.ratedLitresPer100Km,
  idleLitresPerHour: v.idleLitresPerHour,
  sensor: v.sensor,
}));

function run(vehicles: SimVehicle[], seed: number, durationS: number, stepS: number): SimReading[] {
  const sim = createFleetSimulation({ vehicles, seed, startMs: START_MS });
  const out: SimReading[] = [];
  for (let t = 0; t <= durationS; t += stepS) out.push(...sim.step(START_MS + t * 1000));
  return out;
}

function byDevice(readings: SimReading[]): Map<string, TelemetryPayload[]> {
  const map = new Map<string, TelemetryPayload[]>();
  for (const r of readings) {
    const list = map.get(r.deviceId) ?? [];
    list.push(r.payload);
    map.set(r.deviceId, list);
  }
  return map;
}

function pathLengthM(track: TelemetryPayload[]): number {
  let total = 0;
  for (let i = 1; i < track.length; i++) total += distanceM(track[i - 1]!, track[i]!);
  return total;
}

/** Two simulated hours of the whole demo fleet at 10 s steps, shared by the checks below. */
const twoHours = run(demoSimVehicles, 1, 2 * HOUR_S, 10);
const twoHoursByDevice = byDevice(twoHours);

describe('fleet simulation', () => {
  it('answers one reading per vehicle per step', () => {
    expect(twoHours).toHaveLength(demoSimVehicles.length * (2 * HOUR_S / 10 + 1));
    expect([...twoHoursByDevice.keys()].sort()).toEqual(demoSimVehicles.map((v) => v.deviceId).sort());
  });

  it('is deterministic: the same seed and step times give identical output', () => {
    expect(run(demoSimVehicles, 1, 2 * HOUR_S, 10)).toEqual(twoHours);
  });

  it('differs with a different seed', () => {
    expect(run(demoSimVehicles, 2, 2 * HOUR_S, 10)).not.toEqual(twoHours);
  });

  it('keeps every position inside Kupang and on land', () => {
    for (const { payload } of twoHours) {
      expect(payload.lat).toBeGreaterThanOrEqual(KUPANG_BOUNDS.minLat);
      expect(payload.lat).toBeLessThanOrEqual(KUPANG_BOUNDS.maxLat);
      expect(payload.lon).toBeGreaterThanOrEqual(KUPANG_BOUNDS.minLon);
      expect(payload.lon).toBeLessThanOrEqual(KUPANG_BOUNDS.maxLon);
      expect(isOnLand(payload)).toBe(true);
    }
  });

  it('drives at city speeds, and stands still with the ignition off', () => {
    for (const { payload } of twoHours) {
      expect(payload.speedKmh).toBeGreaterThanOrEqual(0);
      expect(payload.speedKmh).toBeLessThanOrEqual(90);
      if (!payload.ignition) expect(payload.speedKmh).toBe(0);
    }
    const moving = twoHours.filter((r) => r.payload.speedKmh > 0);
    const meanKmh = moving.reduce((s, r) => s + r.payload.speedKmh, 0) / moving.length;
    expect(meanKmh).toBeGreaterThan(15);
    expect(meanKmh).toBeLessThan(50);
  });

  it('moves most vehicles more than 1 km within an hour', () => {
    const firstHourSamples = HOUR_S / 10 + 1;
    const movers = [...twoHoursByDevice.values()].filter((track) => pathLengthM(track.slice(0, firstHourSamples)) > 1000);
    expect(movers.length).toBeGreaterThanOrEqual(Math.ceil(0.8 * demoSimVehicles.length));
  });

  it('keeps the odometer in step with the distance driven', () => {
    for (const track of twoHoursByDevice.values()) {
      const odometerM = (track.at(-1)!.odometerKm - track[0]!.odometerKm) * 1000;
      for (let i = 1; i < track.length; i++) expect(track[i]!.odometerKm).toBeGreaterThanOrEqual(track[i - 1]!.odometerKm);
      let drivenPathM = 0;
      for (let i = 1; i < track.length; i++) if (track[i]!.odometerKm > track[i - 1]!.odometerKm) drivenPathM += distanceM(track[i - 1]!, track[i]!);
      // The sampled path cuts corners and carries GPS noise; the odometer does neither.
      expect(Math.abs(drivenPathM - odometerM)).toBeLessThan(0.05 * odometerM + 200);
    }
  });

  it('increments seq per device', () => {
    for (const track of twoHoursByDevice.values()) {
      track.forEach((p, i) => expect(p.seq).toBe(i + 1));
    }
  });

  it('sends only the fuel field its sensor has, within the tank', () => {
    for (const v of demoSimVehicles) {
      for (const p of twoHoursByDevice.get(v.deviceId)!) {
        if (v.sensor === 'litres') {
          expect(p.fuelPercent).toBeUndefined();
          expect(p.fuelLitres).toBeGreaterThanOrEqual(0);
          expect(p.fuelLitres).toBeLessThanOrEqual(v.tankCapacityLitres);
        } else if (v.sensor === 'percent') {
          expect(p.fuelLitres).toBeUndefined();
          expect(p.fuelPercent).toBeGreaterThanOrEqual(0);
          expect(p.fuelPercent).toBeLessThanOrEqual(100);
        } else {
          expect('fuelLitres' in p).toBe(false);
          expect('fuelPercent' in p).toBe(false);
        }
      }
    }
  });

  it('produces payloads that Armada accepts', () => {
    for (const { payload } of twoHours) {
      const result = parseTelemetryPayload(Buffer.from(JSON.stringify(payload)));
      expect(result.rejections).toEqual([]);
      expect(result.readings).toHaveLength(1);
    }
  });

  it('rounds as the contract shows: 6 decimals for position, 1 for speed and fuel', () => {
    const decimals = (x: number) => (String(x).split('.')[1] ?? '').length;
    for (const { payload } of twoHours) {
      expect(decimals(payload.lat)).toBeLessThanOrEqual(6);
      expect(decimals(payload.lon)).toBeLessThanOrEqual(6);
      expect(decimals(payload.speedKmh)).toBeLessThanOrEqual(1);
      if (payload.fuelLitres !== undefined) expect(decimals(payload.fuelLitres)).toBeLessThanOrEqual(1);
      if (payload.fuelPercent !== undefined) expect(decimals(payload.fuelPercent)).toBeLessThanOrEqual(1);
    }
  });

  it('burns fuel at the rated figures: L/100 km while driving, L/h while idling', () => {
    // A big tank that cannot reach the refuel threshold within the hour, so the level only falls.
    const truck: SimVehicle = { deviceId: 'truck-1', tankCapacityLitres: 200, ratedLitresPer100Km: 30, idleLitresPerHour: 3, sensor: 'litres' };
    const track = byDevice(run([truck], 5, HOUR_S, 1)).get('truck-1')!;
    for (let i = 1; i < track.length; i++) expect(track[i]!.fuelLitres!).toBeLessThanOrEqual(track[i - 1]!.fuelLitres!);
    const distanceKm = track.at(-1)!.odometerKm - track[0]!.odometerKm;
    const idleS = track.filter((p) => p.ignition && p.speedKmh === 0).length;
    const expectedLitres = (truck.ratedLitresPer100Km * distanceKm) / 100 + (truck.idleLitresPerHour * idleS) / 3600;
    const usedLitres = track[0]!.fuelLitres! - track.at(-1)!.fuelLitres!;
    expect(distanceKm).toBeGreaterThan(1);
    expect(usedLitres).toBeGreaterThan(0);
    expect(Math.abs(usedLitres - expectedLitres)).toBeLessThan(0.2);
  });

  it('refuels at a fuel station, standing with the engine off, when the tank runs low', () => {
    const thirsty: SimVehicle = { deviceId: 'thirsty-1', tankCapacityLitres: 10, ratedLitresPer100Km: 40, idleLitresPerHour: 1, sensor: 'litres' };
    const track = byDevice(run([thirsty], 3, 6 * HOUR_S, 10)).get('thirsty-1')!;
    const rose = (i: number) => i > 0 && track[i]!.fuelLitres! > track[i - 1]!.fuelLitres!;
    const rises = track.flatMap((p, i) => (rose(i) ? [{ firstOfStop: !rose(i - 1), before: track[i - 1]!, after: p }] : []));
    expect(rises.length).toBeGreaterThan(0);
    for (const { firstOfStop, before, after } of rises) {
      expect(after.speedKmh).toBe(0);
      expect(after.ignition).toBe(false);
      expect(Math.min(...kupangFuelStations.map((s) => distanceM(s, after)))).toBeLessThan(30);
      if (firstOfStop) expect(before.fuelLitres!).toBeLessThan(0.2 * thirsty.tankCapacityLitres);
    }
    const lowest = Math.min(...track.map((p) => p.fuelLitres!));
    expect(lowest).toBeGreaterThanOrEqual(0);
    expect(lowest).toBeLessThan(0.2 * thirsty.tankCapacityLitres);
    expect(Math.max(...track.map((p) => p.fuelLitres!))).toBeLessThanOrEqual(thirsty.tankCapacityLitres);
  });

  it('handles a large time step in one call', () => {
    const sim = createFleetSimulation({ vehicles: demoSimVehicles, seed: 9, startMs: START_MS });
    sim.step(START_MS);
    const week = sim.step(START_MS + 7 * 24 * HOUR_S * 1000);
    expect(week).toHaveLength(demoSimVehicles.length);
    for (const { payload } of week) {
      expect(payload.ts).toBe(new Date(START_MS + 7 * 24 * HOUR_S * 1000).toISOString());
      expect(payload.seq).toBe(2);
      expect(isOnLand(payload)).toBe(true);
      expect(parseTelemetryPayload(Buffer.from(JSON.stringify(payload))).rejections).toEqual([]);
    }
  });

  it('answers nothing for a step that does not reach a new second', () => {
    const sim = createFleetSimulation({ vehicles: demoSimVehicles.slice(0, 2), seed: 1, startMs: START_MS });
    expect(sim.step(START_MS - 5000)).toEqual([]);
    expect(sim.step(START_MS)).toHaveLength(2);
    expect(sim.step(START_MS + 400)).toEqual([]);
    expect(sim.step(START_MS + 1000)).toHaveLength(2);
  });

  it('drives the same path whatever the step cadence', () => {
    const vehicles = demoSimVehicles.slice(0, 5);
    const every10 = byDevice(run(vehicles, 4, HOUR_S, 10));
    const every30 = byDevice(run(vehicles, 4, HOUR_S, 30));
    for (const v of vehicles) {
      const fine = every10.get(v.deviceId)!;
      const coarse = every30.get(v.deviceId)!;
      coarse.forEach((p, i) => {
        const same = fine[i * 3]!;
        expect(p.ts).toBe(same.ts);
        expect(p.odometerKm).toBe(same.odometerKm);
        expect(p.ignition).toBe(same.ignition);
        // Only the GPS noise differs, a few metres.
        expect(distanceM(p, same)).toBeLessThan(25);
      });
    }
  });
});

describe('Kupang geography', () => {
  it('has its named places on land, inside the city', () => {
    expect(kupangPlaces.length).toBeGreaterThanOrEqual(20);
    for (const place of kupangPlaces) expect(isOnLand(place, 100), place.name).toBe(true);
    expect(kupangFuelStations.length).toBeGreaterThanOrEqual(3);
  });
});

describe('Kupang demo fleet', () => {
  it('has about 30 vehicles with unique plates', () => {
    expect(demoVehicles.length).toBeGreaterThanOrEqual(25);
    expect(demoVehicles.length).toBeLessThanOrEqual(40);
    expect(new Set(demoVehicles.map((v) => v.plateNumber)).size).toBe(demoVehicles.length);
    for (const v of demoVehicles) expect(v.plateNumber).toMatch(/^DH \d{1,4}( [A-Z]{1,3})?$/);
  });

  it('derives unique, topic-safe device ids', () => {
    const ids = demoVehicles.map((v) => demoDeviceId(v.plateNumber));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9-]+$/);
    expect(demoDeviceId('DH 8541 AK')).toBe('dh-8541-ak');
  });

  it('places every vehicle in a known department', () => {
    const codes = new Set(demoDepartments.map((d) => d.code));
    expect(codes.size).toBe(demoDepartments.length);
    for (const v of demoVehicles) expect(codes.has(v.departmentCode), v.plateNumber).toBe(true);
  });

  it('has plausible figures for each kind of vehicle', () => {
    for (const v of demoVehicles) {
      expect(v.tankCapacityLitres).toBeGreaterThan(0);
      expect(v.ratedLitresPer100Km).toBeGreaterThan(0);
      expect(v.monthlyAllocationLitres).toBeGreaterThan(0);
      const diesel = v.fuelType === 'solar' || v.fuelType === 'dexlite';
      if (v.kind === 'truck' || v.kind === 'pickup' || v.kind === 'bus' || v.kind === 'ambulance') expect(diesel, v.plateNumber).toBe(true);
      if (v.kind === 'car' || v.kind === 'motorcycle') expect(diesel, v.plateNumber).toBe(false);
      if (v.kind === 'motorcycle') expect(v.tankCapacityLitres).toBeLessThanOrEqual(6);
      if (v.kind === 'truck') expect(v.tankCapacityLitres).toBeGreaterThanOrEqual(100);
    }
  });
});
