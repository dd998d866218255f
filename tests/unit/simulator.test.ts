/**
 * The fleet model as a whole: deterministic, driving where and when a Kupang fleet
 * drives, and sending what Armada accepts. Physics and noise statistics are in
 * simulator-physics.test.ts, the ground truth in simulator-truth.test.ts, formats and
 * replay in simulator-formats.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { demoDepartments, demoDeviceId, demoSimVehicle, demoVehicles } from '../../simulator/demo-fleet.js';
import { parseTelemetryPayload } from '../../src/domain/telemetry.js';
import { simulatePeriod } from '../../simulator/batch.js';
import { isDutyTime, witaMinuteOfDay, witaWeekday, witaDayIndex } from '../../simulator/calendar.js';
import { createFleetSimulation, type ReadingTruth, type SimMessage, type SimVehicle } from '../../simulator/fleet/index.js';
import type { ArmadaPayload } from '../../simulator/formats.js';
import {
  distanceM,
  isInKupang,
  isOnLand,
  KUPANG_BOUNDS,
  kupangFuelStations,
  kupangPlaces,
  outOfCityPlaces,
  REGION_BOUNDS,
} from '../../simulator/kupang.js';
import type { TripRecord, TruthRecord } from '../../simulator/truth.js';

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
/** Monday 2 November 2026, 00:00 WITA. */
const MONDAY_MS = Date.parse('2026-11-02T00:00:00+08:00');

const demoFleet: SimVehicle[] = demoVehicles.map((v) => demoSimVehicle(v));

interface Reading {
  deviceId: string;
  publishedAtMs: number;
  payload: ArmadaPayload;
  truth: ReadingTruth;
  inBacklog: boolean;
}

function readingsOf(messages: SimMessage[]): Reading[] {
  return messages.flatMap((m) => {
    const payloads = (Array.isArray(m.payload) ? m.payload : [m.payload]) as ArmadaPayload[];
    return payloads.map((payload, i) => ({
      deviceId: m.deviceId,
      publishedAtMs: m.atMs,
      payload,
      truth: m.truth![i]!,
      inBacklog: Array.isArray(m.payload),
    }));
  });
}

/** Checks many items at once: vitest's expect costs microseconds, and there are hundreds of thousands. */
function failing<T>(
  items: Iterable<T>,
  ok: (item: T) => boolean,
  describe: (item: T) => string = (item) => JSON.stringify(item),
): string[] {
  const bad: string[] = [];
  for (const item of items) if (!ok(item) && bad.length < 5) bad.push(describe(item));
  return bad;
}

function byDevice<T extends { deviceId: string }>(items: T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const list = map.get(item.deviceId);
    if (list) list.push(item);
    else map.set(item.deviceId, [item]);
  }
  return map;
}

/** Three working days and a Sunday of the whole demo fleet, as the office would live them. */
const week = simulatePeriod(
  { vehicles: demoFleet, seed: 7, startMs: MONDAY_MS - DAY_MS, readingTruth: true, offlineRatePerDay: 0.5 },
  MONDAY_MS + 3 * DAY_MS,
);
const weekReadings = readingsOf(week.messages);
const weekByDevice = byDevice(weekReadings);
const trips = week.truth.filter((r): r is TripRecord => r.type === 'trip');

describe('fleet simulation: determinism', () => {
  const small = demoFleet.slice(0, 6);
  const options = { vehicles: small, seed: 11, startMs: MONDAY_MS, offlineRatePerDay: 2, badFixRate: 0.01, drainRatePerDay: 0.5 };
  const serialise = (r: { messages: SimMessage[]; truth: TruthRecord[] }) => JSON.stringify(r.messages) + JSON.stringify(r.truth);
  const reference = serialise(simulatePeriod(options, MONDAY_MS + DAY_MS));

  it('gives identical messages and truth for the same seed and options', () => {
    expect(serialise(simulatePeriod(options, MONDAY_MS + DAY_MS))).toBe(reference);
  });

  it('does not depend on how the run is cut into steps', () => {
    expect(serialise(simulatePeriod(options, MONDAY_MS + DAY_MS, 433_000))).toBe(reference);
    expect(serialise(simulatePeriod(options, MONDAY_MS + DAY_MS, DAY_MS))).toBe(reference);
  });

  it('differs with another seed', () => {
    expect(serialise(simulatePeriod({ ...options, seed: 12 }, MONDAY_MS + DAY_MS))).not.toBe(reference);
  });

  it("keeps a vehicle's movement when other vehicles are added", () => {
    const alone = simulatePeriod({ ...options, vehicles: small.slice(0, 1) }, MONDAY_MS + DAY_MS);
    const together = simulatePeriod(options, MONDAY_MS + DAY_MS);
    const id = small[0]!.deviceId;
    expect(JSON.stringify(together.messages.filter((m) => m.deviceId === id))).toBe(JSON.stringify(alone.messages));
  });
});

describe('fleet simulation: readings', () => {
  it('sends readings Armada accepts, one object or a backlog array per message', () => {
    // Every backlog and every 20th single reading: the parser is too slow for all of them here.
    const sample = week.messages.filter((m, i) => Array.isArray(m.payload) || i % 20 === 0);
    expect(sample.filter((m) => Array.isArray(m.payload)).length).toBeGreaterThan(5);
    const accepted = (m: SimMessage) => {
      const result = parseTelemetryPayload(Buffer.from(JSON.stringify(m.payload)));
      return result.rejections.length === 0 && result.readings.length === m.readings;
    };
    expect(failing(sample, accepted)).toEqual([]);
  });

  it('stamps every reading of a device later than the one before, with seq counting up from 1', () => {
    for (const track of weekByDevice.values()) {
      const ordered = [...track].sort((a, b) => a.payload.seq - b.payload.seq);
      expect(
        failing(
          ordered.keys(),
          (i) =>
            ordered[i]!.payload.seq === i + 1 && (i === 0 || Date.parse(ordered[i]!.payload.ts) > Date.parse(ordered[i - 1]!.payload.ts)),
        ),
      ).toEqual([]);
    }
  });

  it('reports every interval with the ignition on and every parked interval with it off', () => {
    for (const track of weekByDevice.values()) {
      const ordered = [...track].sort((a, b) => a.payload.seq - b.payload.seq);
      const gapS = (i: number) => (Date.parse(ordered[i]!.payload.ts) - Date.parse(ordered[i - 1]!.payload.ts)) / 1000;
      const steps = [...ordered.keys()].slice(1);
      expect(
        failing(
          steps,
          (i) => gapS(i) <= (ordered[i - 1]!.payload.ignition ? 10 : 60),
          (i) => `${ordered[i]!.deviceId} ${ordered[i]!.payload.ts} after ${gapS(i)} s`,
        ),
      ).toEqual([]);
    }
  });

  it('publishes a backlog when coverage returns, after the readings it holds', () => {
    const backlogs = week.messages.filter((m) => Array.isArray(m.payload));
    for (const m of backlogs) {
      const payloads = m.payload as ArmadaPayload[];
      expect(payloads.length).toBeLessThanOrEqual(500);
      expect(Date.parse(payloads.at(-1)!.ts)).toBeLessThanOrEqual(m.atMs);
    }
    const offline = week.truth.filter((r) => r.type === 'offline');
    expect(backlogs.reduce((n, m) => n + m.readings, 0)).toBe(offline.reduce((n, r) => n + (r.type === 'offline' ? r.readings : 0), 0));
  });

  it('keeps the true path on land, and good fixes within metres of it', () => {
    const where = (r: Reading) => `${r.deviceId} ${r.payload.ts}`;
    expect(failing(weekReadings, (r) => isOnLand(r.truth), where)).toEqual([]);
    expect(failing(weekReadings, (r) => r.truth.badFix !== null || distanceM(r.payload, r.truth) < 25, where)).toEqual([]);
  });

  it('stands still with the ignition off, and drives at city speeds in the city', () => {
    expect(failing(weekReadings, (r) => r.payload.ignition || r.payload.speedKmh === 0)).toEqual([]);
    const moving = weekReadings.filter((r) => r.payload.speedKmh > 0);
    expect(Math.max(...moving.map((r) => r.payload.speedKmh))).toBeLessThanOrEqual(82);
    const inCity = moving.filter((r) => isInKupang(r.truth));
    const meanKmh = inCity.reduce((s, r) => s + r.payload.speedKmh, 0) / inCity.length;
    expect(meanKmh).toBeGreaterThan(15);
    expect(meanKmh).toBeLessThan(45);
    const fastShare = inCity.filter((r) => r.payload.speedKmh > 62).length / inCity.length;
    expect(fastShare).toBeLessThan(0.01);
  });

  it('keeps the odometer in step with the distance driven', () => {
    for (const track of weekByDevice.values()) {
      const ordered = [...track].sort((a, b) => a.payload.seq - b.payload.seq);
      expect(failing([...ordered.keys()].slice(1), (i) => ordered[i]!.payload.odometerKm >= ordered[i - 1]!.payload.odometerKm)).toEqual(
        [],
      );
    }
    const vehicles = week.truth.filter((r) => r.type === 'vehicle');
    for (const v of vehicles) {
      if (v.type !== 'vehicle') continue;
      const ordered = [...weekByDevice.get(v.deviceId)!].sort((a, b) => a.payload.seq - b.payload.seq);
      // The odometer is sent to the metre; the last reading may be up to an interval before the end.
      const sentKm = ordered.at(-1)!.payload.odometerKm - ordered[0]!.payload.odometerKm;
      expect(Math.abs(sentKm - v.distanceKm)).toBeLessThan(0.2);
    }
  });

  it('sends only the fuel fields its sensor has', () => {
    for (const v of demoFleet) {
      const expected = { litres: 'fuelLitres', percent: 'fuelPercent', counter: 'fuelPercent,fuelUsedLitres', none: '' }[v.sensor];
      const ok = ({ payload }: Reading) =>
        ['fuelLitres', 'fuelPercent', 'fuelUsedLitres'].filter((f) => f in payload).join(',') === expected &&
        (payload.fuelLitres ?? 0) <= v.tankCapacityLitres &&
        (payload.fuelPercent ?? 0) <= 100;
      expect(failing(weekByDevice.get(v.deviceId)!, ok), v.deviceId).toEqual([]);
    }
  });
});

describe('fleet simulation: a working week in Kupang (realistic schedule)', () => {
  const setups = createFleetSimulation({ vehicles: demoFleet, seed: 7, startMs: MONDAY_MS }).vehicles;
  const duty = new Map(setups.map((s) => [s.spec.deviceId, s.duty]));
  const witaHour = (ms: number) => witaMinuteOfDay(ms) / 60;

  it('gives each kind of vehicle its duty', () => {
    const dutyOf = (plate: string) => setups.find((s) => s.plateNumber === plate)!.duty;
    expect(dutyOf('DH 101')).toBe('office');
    expect(dutyOf('DH 130')).toBe('shift');
    expect(dutyOf('DH 120')).toBe('garbage');
    expect(dutyOf('DH 112')).toBe('bus');
  });

  it('keeps office cars at home at night and on Sunday, apart from private trips', () => {
    // A private evening out may begin with a stop at a fuel station; errands never happen after hours.
    const afterHoursPurposes = ['private', 'home', 'refuel', 'phantom'];
    for (const t of trips.filter((t) => duty.get(t.deviceId) === 'office' && !afterHoursPurposes.includes(t.purpose))) {
      const at = Date.parse(t.startAt);
      expect(witaWeekday(witaDayIndex(at)), `${t.plateNumber} ${t.startAt}`).not.toBe(0);
      expect(isDutyTime('office', at), `${t.plateNumber} ${t.startAt}`).toBe(true);
    }
    const officeNight = weekReadings.filter(
      (r) => duty.get(r.deviceId) === 'office' && witaHour(r.truth.atMs) >= 1 && witaHour(r.truth.atMs) < 5,
    );
    expect(officeNight.length).toBeGreaterThan(100);
    expect(officeNight.filter((r) => r.truth.speedKmh > 0).length).toBeLessThan(0.02 * officeNight.length);
  });

  it('starts garbage rounds before office hours, and answers ambulance calls at any hour', () => {
    const garbageStarts = trips.filter((t) => duty.get(t.deviceId) === 'garbage').map((t) => witaHour(Date.parse(t.startAt)));
    expect(Math.min(...garbageStarts)).toBeLessThan(6.5);
    const nightCalls = trips.filter(
      (t) => t.purpose === 'call-out' && (witaHour(Date.parse(t.startAt)) < 6 || witaHour(Date.parse(t.startAt)) >= 20),
    );
    expect(nightCalls.length).toBeGreaterThan(0);
  });

  it('parks during office hours for long spells, and idles with the engine on', () => {
    const stops = week.truth.filter(
      (r) => r.type === 'stop' && duty.get(r.deviceId) === 'office' && isDutyTime('office', Date.parse(r.startAt)),
    );
    expect(stops.filter((s) => s.type === 'stop' && s.durationS >= 30 * 60).length).toBeGreaterThan(20);
    expect(weekReadings.some((r) => r.payload.ignition && r.payload.speedKmh === 0)).toBe(true);
  });

  it('flags trips by the working hours of their duty', () => {
    for (const t of trips)
      expect(t.outsideWorkingHours, `${t.plateNumber} ${t.startAt}`).toBe(!isDutyTime(duty.get(t.deviceId)!, Date.parse(t.startAt)));
  });
});

describe('fleet simulation: always-on schedule (the demo)', () => {
  it('has vehicles driving at 02:00 WITA and at noon', () => {
    for (const at of [Date.parse('2026-11-03T02:00:00+08:00'), Date.parse('2026-11-03T12:00:00+08:00')]) {
      const sim = createFleetSimulation({ vehicles: demoFleet, seed: 2026, startMs: at, schedule: 'always' });
      const snapshot = sim.step(at + 30_000);
      expect(snapshot).toHaveLength(demoFleet.length);
      expect(snapshot.filter((r) => r.payload.speedKmh > 0).length).toBeGreaterThanOrEqual(Math.ceil(0.3 * demoFleet.length));
    }
  });

  it('answers one snapshot per vehicle per new second, and nothing for the same second', () => {
    const sim = createFleetSimulation({ vehicles: demoFleet.slice(0, 2), seed: 1, startMs: MONDAY_MS, schedule: 'always' });
    expect(sim.step(MONDAY_MS - 5000)).toEqual([]);
    expect(sim.step(MONDAY_MS)).toHaveLength(2);
    expect(sim.step(MONDAY_MS + 400)).toEqual([]);
    const next = sim.step(MONDAY_MS + 1000);
    expect(next).toHaveLength(2);
    for (const { payload } of next) expect(parseTelemetryPayload(Buffer.from(JSON.stringify(payload))).rejections).toEqual([]);
  });

  it('crosses days in one step', () => {
    const sim = createFleetSimulation({ vehicles: demoFleet.slice(0, 4), seed: 9, startMs: MONDAY_MS, schedule: 'always' });
    const later = sim.step(MONDAY_MS + 2 * DAY_MS);
    expect(later).toHaveLength(4);
    for (const { payload } of later) expect(payload.ts).toBe(new Date(MONDAY_MS + 2 * DAY_MS).toISOString());
  });
});

describe('Kupang geography', () => {
  it('has its named places on land, inside the city', () => {
    expect(kupangPlaces.length).toBeGreaterThanOrEqual(25);
    for (const place of kupangPlaces) {
      expect(isOnLand(place, 100), place.name).toBe(true);
      expect(isInKupang(place), place.name).toBe(true);
    }
    expect(kupangFuelStations.length).toBeGreaterThanOrEqual(5);
  });

  it('has places outside the city to drive to, on land', () => {
    for (const place of outOfCityPlaces) {
      expect(isOnLand(place, 100), place.name).toBe(true);
      expect(isInKupang(place), place.name).toBe(false);
      expect(place.lat).toBeGreaterThan(REGION_BOUNDS.minLat);
    }
    expect(KUPANG_BOUNDS.minLat).toBeGreaterThan(REGION_BOUNDS.minLat);
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

  it('has plausible figures for each kind of vehicle, and every kind of fuel sensor', () => {
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
    expect(new Set(demoVehicles.map((v) => v.sensor))).toEqual(new Set(['litres', 'percent', 'counter', 'none']));
  });
});
