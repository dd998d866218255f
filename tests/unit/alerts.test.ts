import { describe, expect, it } from 'vitest';
import { evaluateReading, freshAlertState, type AlertReading, type AlertRules } from '../../src/domain/alerts.js';
import { containsPoint, KUPANG_CITY_BOUNDARY } from '../../src/domain/geofence.js';
import { DEFAULT_WORKING_HOURS, parseHolidays } from '../../src/domain/report-time.js';
import { kupangPlaces } from '../../simulator/kupang.js';

const rules: AlertRules = {
  reportTz: 'Asia/Makassar',
  speedLimitKmh: 60,
  workingHours: DEFAULT_WORKING_HOURS,
  lowBatteryV: 11.8,
  geofences: [{ id: 'city', name: 'Kota Kupang', geometry: KUPANG_CITY_BOUNDARY }],
};
const vehicle: { vehicleId: string; departmentId: string; plateNumber: string; speedLimitKmh: number | null } = {
  vehicleId: 'v1',
  departmentId: 'd1',
  plateNumber: 'DH 101',
  speedLimitKmh: null,
};
// Wednesday 2026-11-25, 10:00 WITA = 02:00 UTC: working time.
const WORK_MS = Date.UTC(2026, 10, 25, 2);
const reading = (s: number, extra: Partial<AlertReading> = {}): AlertReading => ({
  fixAtMs: WORK_MS + s * 1000,
  lat: -10.1702,
  lon: 123.6078,
  speedKmh: 30,
  ignition: true,
  batteryV: 13.8,
  ...extra,
});

function run(readings: AlertReading[], v = vehicle) {
  const state = freshAlertState();
  return readings.flatMap((r) => evaluateReading(state, v, r, rules));
}

describe('alert rules', () => {
  it('raises one speeding alert per episode, with hysteresis', () => {
    const alerts = run([
      reading(0),
      reading(10, { speedKmh: 75 }),
      reading(20, { speedKmh: 80 }),
      reading(30, { speedKmh: 58 }),
      reading(40, { speedKmh: 62 }),
      reading(50, { speedKmh: 50 }),
      reading(60, { speedKmh: 70 }),
    ]);
    expect(alerts.map((a) => [a.kind, a.atMs])).toEqual([
      ['speeding', WORK_MS + 10_000],
      ['speeding', WORK_MS + 60_000],
    ]);
    expect(alerts[0]!.details).toEqual({ speedKmh: 75, limitKmh: 60 });
  });

  it("uses the vehicle's own limit when it has one", () => {
    expect(run([reading(0, { speedKmh: 75 })], { ...vehicle, speedLimitKmh: 90 })).toEqual([]);
    expect(run([reading(0, { speedKmh: 45 })], { ...vehicle, speedLimitKmh: 40 }).map((a) => a.kind)).toEqual(['speeding']);
  });

  it('reports use outside working hours once per episode, and not a parked vehicle', () => {
    const saturday = Date.UTC(2026, 10, 28, 2) - WORK_MS; // Saturday 10:00 WITA
    const at = (s: number, extra: Partial<AlertReading>) => reading(saturday / 1000 + s, extra);
    const alerts = run([
      at(0, { speedKmh: 0, ignition: false }),
      at(10, { speedKmh: 20 }),
      at(20, { speedKmh: 25 }),
      at(30, { speedKmh: 0, ignition: false }),
      at(40, { speedKmh: 10 }),
    ]);
    expect(alerts.map((a) => a.kind)).toEqual(['outside_working_hours', 'outside_working_hours']);
  });

  it('reports use on a public holiday as outside working hours, and not the working day after', () => {
    const holidayRules: AlertRules = { ...rules, workingHours: { ...DEFAULT_WORKING_HOURS, holidays: parseHolidays('2026-11-25') } };
    const state = freshAlertState();
    // Wednesday 2026-11-25 10:00 WITA, a working weekday: a holiday here.
    const onHoliday = [reading(0), reading(10)].flatMap((r) => evaluateReading(state, vehicle, r, holidayRules));
    expect(onHoliday.map((a) => [a.kind, a.atMs])).toEqual([['outside_working_hours', WORK_MS]]);
    // Without the holiday the same readings raise nothing.
    expect(run([reading(0), reading(10)])).toEqual([]);
    // Thursday 10:00 WITA is a working day again.
    expect(evaluateReading(freshAlertState(), vehicle, reading(86_400), holidayRules)).toEqual([]);
  });

  it('raises a geofence exit on leaving, not for a vehicle first seen outside', () => {
    const soe = { lat: -9.86, lon: 124.28 };
    expect(run([reading(0, soe), reading(10, soe)])).toEqual([]);
    const left = run([reading(0), reading(60, { lat: -10.3, lon: 123.75 }), reading(120, { lat: -10.31, lon: 123.76 })]);
    expect(left.map((a) => [a.kind, a.details.geofenceName])).toEqual([['geofence_exit', 'Kota Kupang']]);
  });

  it('reports a low battery with the engine off, once', () => {
    const alerts = run([
      reading(0, { ignition: false, speedKmh: 0, batteryV: 12.2 }),
      reading(10, { ignition: false, speedKmh: 0, batteryV: 11.5 }),
      reading(20, { ignition: false, speedKmh: 0, batteryV: 11.4 }),
    ]);
    expect(alerts.map((a) => a.kind)).toEqual(['low_battery']);
    // Cranking with the engine on dips the voltage: not an alert.
    expect(run([reading(0, { batteryV: 10.5 })])).toEqual([]);
  });

  it('does not judge readings older than the newest one seen (a late flush)', () => {
    const state = freshAlertState();
    expect(evaluateReading(state, vehicle, reading(100), rules)).toEqual([]);
    expect(evaluateReading(state, vehicle, reading(50, { speedKmh: 120 }), rules)).toEqual([]);
  });
});

describe('the Kupang city boundary', () => {
  it('holds every simulator destination and fuel station, and not the towns beyond', () => {
    for (const place of kupangPlaces) expect(containsPoint(KUPANG_CITY_BOUNDARY, place.lat, place.lon), place.name).toBe(true);
    for (const [name, lat, lon] of [
      ['Soe', -9.86, 124.28],
      ['Oelamasi', -10.05, 123.86],
      ['Kupang Bay', -10.1, 123.6],
    ] as const) {
      expect(containsPoint(KUPANG_CITY_BOUNDARY, lat, lon), name).toBe(false);
    }
  });
});
