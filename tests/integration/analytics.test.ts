/**
 * Trips, stops, fuel and the fleet report through the API, on the real stores: computed
 * from the readings, then from the rollups the job writes (the same answers), late data,
 * CSV, per-request thresholds and department scope; and simulator readings against the
 * simulator's ground truth, through the database, the rollup job and the API.
 */
import { pino } from 'pino';
import { simulatedFleet } from '../../simulator/sim-fleet.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRollupJob, type RollupJob } from '../../src/analytics/rollup-job.js';
import { analyseWindow } from '../../src/domain/analysis.js';
import { DEFAULT_FUEL_SETTINGS } from '../../src/domain/fuel/index.js';
import { addDays, dayRangeMs, DEFAULT_WORKING_HOURS, localDayOf } from '../../src/domain/report-time.js';
import { DEFAULT_TRIP_SETTINGS } from '../../src/domain/trips.js';
import { issueKey } from '../support/api-fixtures.js';
import { registerVehicleWithDevice, startTestService, type TestService } from '../support/service.js';
import { DEFAULT_NOISE, synthesise, type Phase, type SyntheticRun } from '../support/synthetic-day.js';
import { matchEvents, mergedTruth, simulate, type SimulatedRun } from '../support/sim-truth.js';
import { insertReadings } from '../support/telemetry-rows.js';
import { useTestClock } from '../support/test-clock.js';

// The days below are picked from "now", and what a simulated office fleet does on a day
// depends on its weekday: a fixed clock, and `npm run test:dates` tries several.
const nowMs = useTestClock();

const TZ = 'Asia/Makassar';
const spec = { tankCapacityLitres: 60, ratedLitresPer100Km: 10, idleLitresPerHour: 0.8 };

let t: TestService;
let a: Awaited<ReturnType<typeof registerVehicleWithDevice>>;
let b: Awaited<ReturnType<typeof registerVehicleWithDevice>>;
let job: RollupJob;
let run: SyntheticRun;
let counterRun: SyntheticRun;
let day1: string;
let day2: string;
let periodFrom: string;
let periodTo: string;
const keys: Record<string, string> = {};
let simDepartmentId: string;

type Trip = {
  startAt: string;
  endAt: string;
  durationS: number;
  distanceKm: number;
  avgSpeedKmh: number;
  maxSpeedKmh: number;
  fuelUsedLitres: number;
  start: { lat: number; lon: number };
  end: { lat: number; lon: number };
  partial: boolean;
};
type Stop = { startAt: string; endAt: string; durationS: number; lat: number; lon: number; engineOnS: number };
type Fuel = {
  distanceKm: number;
  fuelUsedLitres: number;
  litresPer100Km: number | null;
  idleLitres: number;
  fuelSource: string;
  refuels: Array<{ at: string; lat: number; lon: number; litres: number }>;
  drains: Array<{ at: string; litres: number }>;
  engineHours: number;
};
type ReportRow = {
  vehicleId: string;
  plateNumber: string;
  departmentId: string;
  distanceKm: number;
  fuelUsedLitres: number;
  fuelSource: string;
  refuelCount: number;
  refuelledLitres: number;
  drainCount: number;
  drainedLitres: number;
  engineHours: number;
};

async function json<T>(path: string, key?: string): Promise<T> {
  const res = await t.api(path, key ? { key } : {});
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Two working days: errands, a refuel on the first, a drain on the night between. */
function twoDays(): Phase[] {
  const errands = (n: number, extra: Phase[] = []): Phase[] => {
    const out: Phase[] = [];
    for (let i = 0; i < n; i++) {
      out.push(
        { kind: 'idle', seconds: 60 },
        { kind: 'drive', metres: 4000 + 1500 * i, cruiseKmh: 35 + 3 * i, lights: 2 },
        { kind: 'park', seconds: 1800 + 300 * i },
      );
      if (i === 1) out.push(...extra);
    }
    return out;
  };
  return [
    { kind: 'park', seconds: 7 * 3600 },
    ...errands(4, [{ kind: 'refuel', litres: 30 }]),
    { kind: 'park', seconds: 6 * 3600 },
    { kind: 'drain', litres: 12, litresPerS: 0.05 },
    { kind: 'park', seconds: 8 * 3600 },
    ...errands(3),
    { kind: 'park', seconds: 6 * 3600 },
  ];
}

beforeAll(async () => {
  t = await startTestService({ roles: { api: true, worker: false }, listen: false });
  a = await registerVehicleWithDevice(t, { plate: 'DH 5001 AN', tankCapacityLitres: spec.tankCapacityLitres });
  b = await registerVehicleWithDevice(t, { plate: 'DH 5002 AN', tankCapacityLitres: spec.tankCapacityLitres });
  // Ten days ago, from local midnight: finished days the job can settle.
  day1 = localDayOf(TZ, nowMs - 10 * 86_400_000);
  day2 = addDays(day1, 1);
  const start = dayRangeMs(TZ, day1).startMs;
  run = synthesise(spec, twoDays(), { startMs: start, seed: 21, startLitres: 25 });
  counterRun = synthesise(
    spec,
    twoDays().filter((p) => p.kind !== 'drain'),
    { startMs: start, seed: 22, startLitres: 40, noise: { ...DEFAULT_NOISE, kind: 'counter' } },
  );
  await insertReadings(t.testDb.database, a, run.readings);
  await insertReadings(t.testDb.database, b, counterRun.readings);
  periodFrom = new Date(start).toISOString();
  periodTo = new Date(dayRangeMs(TZ, addDays(day2, 1)).startMs).toISOString();
  const issue = async (role: string, departmentId?: string) => (await issueKey(t, role, departmentId ? { departmentId } : {})).key;
  keys.financeB = await issue('finance', b.departmentId);
  keys.viewer = await issue('viewer');
  job = startRollupJob(
    {
      analytics: t.services.domain.analytics,
      analyticsRepo: t.services.repos.analytics,
      vehicles: t.services.repos.vehicles,
      logger: pino({ level: 'silent' }),
    },
    { autoStart: false },
  );
});

afterAll(async () => {
  await job?.stop();
  await t?.close();
});

/** 1 = Monday … 7 = Sunday. */
const isoWeekday = (day: string) => ((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;

const period = () => `from=${encodeURIComponent(periodFrom)}&to=${encodeURIComponent(periodTo)}`;

describe('computed from the readings', () => {
  it('lists the trips and stops the domain analysis finds, in the contract shape', async () => {
    const expected = analyseWindow(
      run.readings,
      spec,
      { trips: DEFAULT_TRIP_SETTINGS, fuel: DEFAULT_FUEL_SETTINGS, tz: TZ, workingHours: DEFAULT_WORKING_HOURS },
      Date.parse(periodFrom),
      Date.parse(periodTo),
    );
    const trips = await json<Trip[]>(`/api/v1/vehicles/${a.vehicleId}/trips?${period()}`);
    const expectedTrips = expected.segments.filter((s) => s.kind === 'trip');
    expect(trips).toHaveLength(7);
    expect(trips.map((x) => x.startAt)).toEqual(expectedTrips.map((s) => new Date(s.startMs).toISOString()));
    const first = trips[0]!;
    expect(Object.keys(first).sort()).toEqual(
      [
        'avgSpeedKmh',
        'distanceKm',
        'durationS',
        'end',
        'endAt',
        'fuelUsedLitres',
        'idleS',
        'maxSpeedKmh',
        'partial',
        'start',
        'startAt',
      ].sort(),
    );
    // Traccar's trip distance runs from the first moving fix: the metres before it belong to the stop.
    expect(first.distanceKm).toBeGreaterThan(3.9);
    expect(first.distanceKm).toBeLessThan(4.05);
    expect(first.avgSpeedKmh).toBeCloseTo(first.distanceKm / (first.durationS / 3600), 0);
    expect(first.fuelUsedLitres).toBeGreaterThan(0.2);
    const stops = await json<Stop[]>(`/api/v1/vehicles/${a.vehicleId}/stops?${period()}`);
    expect(stops.length).toBe(expected.segments.filter((s) => s.kind === 'stop').length);
    expect(stops[0]!.startAt).toBe(periodFrom);
    const total = trips.reduce((s, x) => s + x.distanceKm, 0);
    expect(total * 1000).toBeGreaterThan(run.distanceM * 0.99);
    expect(total * 1000).toBeLessThan(run.distanceM * 1.01);
  });

  it('measures fuel by the sensor, with the refuel and the drain', async () => {
    const fuel = await json<Fuel>(`/api/v1/vehicles/${a.vehicleId}/fuel?${period()}`);
    expect(fuel.fuelSource).toBe('sensor');
    expect(fuel.refuels).toHaveLength(1);
    expect(fuel.refuels[0]!.litres).toBeGreaterThan(30 * 0.95);
    expect(fuel.refuels[0]!.litres).toBeLessThan(30 * 1.05);
    expect(fuel.drains).toHaveLength(1);
    expect(fuel.drains[0]!.litres).toBeGreaterThan(12 * 0.95);
    expect(Math.abs(fuel.fuelUsedLitres - run.usedLitres)).toBeLessThan(Math.max(0.05 * run.usedLitres, 0.2));
    expect(fuel.distanceKm * 1000).toBeCloseTo(run.distanceM, -2);
    expect(fuel.litresPer100Km).toBeCloseTo((100 * fuel.fuelUsedLitres) / fuel.distanceKm, 1);
    const counter = await json<Fuel>(`/api/v1/vehicles/${b.vehicleId}/fuel?${period()}`);
    expect(counter.fuelSource).toBe('counter');
    expect(Math.abs(counter.fuelUsedLitres - counterRun.usedLitres)).toBeLessThan(0.2);
  });

  it('answers CSV for trips, stops and fuel', async () => {
    const res = await t.api(`/api/v1/vehicles/${a.vehicleId}/trips?${period()}&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).split('\r\n');
    expect(lines[0]).toBe(
      'startAt,endAt,durationS,distanceKm,avgSpeedKmh,maxSpeedKmh,fuelUsedLitres,startLat,startLon,endLat,endLon,idleS,partial',
    );
    expect(lines).toHaveLength(7 + 2);
    const byAccept = await t.api(`/api/v1/vehicles/${a.vehicleId}/stops?${period()}`, { headers: { accept: 'text/csv' } });
    expect(byAccept.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await byAccept.text()).startsWith('startAt,endAt,durationS,lat,lon,engineOnS,partial\r\n')).toBe(true);
    const fuel = await (await t.api(`/api/v1/vehicles/${a.vehicleId}/fuel?${period()}&format=csv`)).text();
    const rows = fuel.trim().split('\r\n');
    expect(rows[1]!.startsWith('summary,')).toBe(true);
    expect(rows.filter((r) => r.startsWith('refuel,'))).toHaveLength(1);
    expect(rows.filter((r) => r.startsWith('drain,'))).toHaveLength(1);
  });

  it('takes per-request thresholds, and refuses bad ones', async () => {
    const fewer = await json<Stop[]>(`/api/v1/vehicles/${a.vehicleId}/stops?${period()}&minStopDurationS=7200`);
    const all = await json<Stop[]>(`/api/v1/vehicles/${a.vehicleId}/stops?${period()}`);
    expect(fewer.length).toBeLessThan(all.length);
    const longTrips = await json<Trip[]>(`/api/v1/vehicles/${a.vehicleId}/trips?${period()}&minStopDurationS=7200`);
    expect(longTrips.length).toBeLessThan(7);
    for (const bad of ['minStopDurationS=-1', 'useIgnition=maybe', 'minGapS=0', 'from=yesterday']) {
      expect((await t.api(`/api/v1/vehicles/${a.vehicleId}/trips?${bad}`)).status, bad).toBe(400);
    }
    const long = await t.api(
      `/api/v1/vehicles/${a.vehicleId}/trips?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&minTripDistanceM=100`,
    );
    expect(long.status).toBe(400);
  });
});

describe('the rollups', () => {
  let before: { trips: Trip[]; stops: Stop[]; fuel: Fuel };

  beforeAll(async () => {
    before = {
      trips: await json<Trip[]>(`/api/v1/vehicles/${a.vehicleId}/trips?${period()}`),
      stops: await json<Stop[]>(`/api/v1/vehicles/${a.vehicleId}/stops?${period()}`),
      fuel: await json<Fuel>(`/api/v1/vehicles/${a.vehicleId}/fuel?${period()}`),
    };
    await job.runOnce();
  });

  it('stores every day of both vehicles with their trips and fuel events', async () => {
    const rows = await t.testDb.database.query<{
      vehicle_id: string;
      day: string;
      trip_count: number;
      refuel_count: number;
      drain_count: number;
      fuel_source: string;
    }>(
      `SELECT vehicle_id, day::text AS day, trip_count, refuel_count, drain_count, fuel_source FROM vehicle_day_rollups ORDER BY vehicle_id, day`,
    );
    const mine = rows.filter((r) => r.vehicle_id === a.vehicleId);
    expect(mine.map((r) => r.day)).toEqual(expect.arrayContaining([day1, day2]));
    expect(mine.find((r) => r.day === day1)).toMatchObject({ trip_count: 4, refuel_count: 1, fuel_source: 'sensor' });
    expect(rows.find((r) => r.vehicle_id === b.vehicleId && r.day === day1)?.fuel_source).toBe('counter');
    const period = await t.services.domain.analytics.vehiclePeriod(
      (await t.services.repos.vehicles.findById({ departmentId: null }, a.vehicleId))!,
      Date.parse(periodFrom),
      Date.parse(periodTo),
    );
    expect(period.storedDays).toBe(2);
    expect(period.computedWindows).toBe(0);
  });

  it('answers from the rollups what it answered from the readings', async () => {
    // Everything alike; a trip's litres may differ by a few centilitres, as a day computed alone
    // calibrates the runs next to a refuel by that day's other runs (src/domain/fuel.ts).
    const trips = await json<Trip[]>(`/api/v1/vehicles/${a.vehicleId}/trips?${period()}`);
    expect(trips.map((x) => ({ ...x, fuelUsedLitres: 0 }))).toEqual(before.trips.map((x) => ({ ...x, fuelUsedLitres: 0 })));
    trips.forEach((x, i) => expect(Math.abs(x.fuelUsedLitres - before.trips[i]!.fuelUsedLitres)).toBeLessThan(0.1));
    expect(await json<Stop[]>(`/api/v1/vehicles/${a.vehicleId}/stops?${period()}`)).toEqual(before.stops);
    const fuel = await json<Fuel>(`/api/v1/vehicles/${a.vehicleId}/fuel?${period()}`);
    expect(fuel.refuels).toEqual(before.fuel.refuels);
    expect(fuel.drains).toEqual(before.fuel.drains);
    expect(fuel.distanceKm).toBeCloseTo(before.fuel.distanceKm, 2);
    expect(Math.abs(fuel.fuelUsedLitres - before.fuel.fuelUsedLitres)).toBeLessThan(0.15);
  });

  it('recomputes a past day when late readings land in it, and clears its mark', async () => {
    const { startMs } = dayRangeMs(TZ, day2);
    const lastFix = run.readings[run.readings.length - 1]!;
    // A late evening drive on day 2 (20:00–20:20 local), flushed from a device's buffer.
    const late = synthesise(
      spec,
      [
        { kind: 'park', seconds: 60 },
        { kind: 'drive', metres: 9000, cruiseKmh: 40 },
        { kind: 'park', seconds: 300 },
      ],
      {
        startMs: startMs + 20 * 3600_000,
        seed: 5,
        startLitres: 20,
        noise: { ...DEFAULT_NOISE, kind: 'none' },
      },
    );
    await insertReadings(
      t.testDb.database,
      a,
      late.readings.map((r) => ({ ...r, lat: lastFix.lat, lon: r.lon - 0.2 })),
    );
    await t.testDb.database.query(`INSERT INTO telemetry_late_days (vehicle_id, day) VALUES ($1, $2)`, [a.vehicleId, day2]);
    const [{ distance_km: beforeKm }] = (await t.testDb.database.query<{ distance_km: number }>(
      `SELECT distance_km FROM vehicle_day_rollups WHERE vehicle_id = $1 AND day = $2`,
      [a.vehicleId, day2],
    )) as [{ distance_km: number }];
    await job.runOnce();
    const [{ distance_km: afterKm }] = (await t.testDb.database.query<{ distance_km: number }>(
      `SELECT distance_km FROM vehicle_day_rollups WHERE vehicle_id = $1 AND day = $2`,
      [a.vehicleId, day2],
    )) as [{ distance_km: number }];
    expect(afterKm - beforeKm).toBeGreaterThan(8.5);
    expect(await t.testDb.database.query(`SELECT 1 FROM telemetry_late_days WHERE vehicle_id = $1`, [a.vehicleId])).toHaveLength(0);
    const trips = await json<Trip[]>(`/api/v1/vehicles/${a.vehicleId}/trips?${period()}`);
    expect(trips).toHaveLength(8);
  });

  it('keeps a late mark renewed while the job ran', async () => {
    const repo = t.services.repos.analytics;
    await t.testDb.database.query(
      `INSERT INTO telemetry_late_days (vehicle_id, day, marked_at) VALUES ($1, $2, now() - interval '1 minute')`,
      [b.vehicleId, day1],
    );
    const [mark] = await repo.pendingLateDays(10);
    await t.testDb.database.query(`UPDATE telemetry_late_days SET marked_at = now() WHERE vehicle_id = $1`, [b.vehicleId]);
    await repo.clearLateDays(b.vehicleId, [mark!]);
    expect(await t.testDb.database.query(`SELECT 1 FROM telemetry_late_days WHERE vehicle_id = $1`, [b.vehicleId])).toHaveLength(1);
    await job.runOnce();
    expect(await t.testDb.database.query(`SELECT 1 FROM telemetry_late_days WHERE vehicle_id = $1`, [b.vehicleId])).toHaveLength(0);
  });
});

describe('the fleet fuel report', () => {
  it('has one row per vehicle, agreeing with each vehicle’s fuel report', async () => {
    const rows = await json<ReportRow[]>(`/api/v1/reports/fuel?${period()}`);
    expect(rows.map((r) => r.plateNumber).sort()).toEqual(['DH 5001 AN', 'DH 5002 AN']);
    for (const id of [a.vehicleId, b.vehicleId]) {
      const row = rows.find((r) => r.vehicleId === id)!;
      const fuel = await json<Fuel>(`/api/v1/vehicles/${id}/fuel?${period()}`);
      expect(row.distanceKm).toBeCloseTo(fuel.distanceKm, 2);
      expect(row.fuelUsedLitres).toBeCloseTo(fuel.fuelUsedLitres, 1);
      expect(row.fuelSource).toBe(fuel.fuelSource);
      expect(row.engineHours).toBeCloseTo(fuel.engineHours, 2);
    }
    const mine = rows.find((r) => r.vehicleId === a.vehicleId)!;
    expect(mine).toMatchObject({ refuelCount: 1, drainCount: 1 });
  });

  it('computes partial edge days from the readings and adds them to the rollups', async () => {
    // From noon on day 1 to noon on day 2 + the whole of nothing: two partial days.
    const from = new Date(dayRangeMs(TZ, day1).startMs + 12 * 3600_000).toISOString();
    const to = new Date(dayRangeMs(TZ, day2).startMs + 12 * 3600_000).toISOString();
    const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    const rows = await json<ReportRow[]>(`/api/v1/reports/fuel?${q}`);
    const fuel = await json<Fuel>(`/api/v1/vehicles/${a.vehicleId}/fuel?${q}`);
    const mine = rows.find((r) => r.vehicleId === a.vehicleId)!;
    expect(mine.distanceKm).toBeCloseTo(fuel.distanceKm, 2);
    expect(mine.fuelUsedLitres).toBeCloseTo(fuel.fuelUsedLitres, 1);
  });

  it('limits a department key to its department, in the report and the vehicle endpoints', async () => {
    const rows = await json<ReportRow[]>(`/api/v1/reports/fuel?${period()}`, keys.financeB);
    expect(rows.map((r) => r.vehicleId)).toEqual([b.vehicleId]);
    for (const path of ['trips', 'stops', 'fuel']) {
      expect((await t.api(`/api/v1/vehicles/${a.vehicleId}/${path}?${period()}`, { key: keys.financeB })).status, path).toBe(404);
    }
    expect((await t.api(`/api/v1/reports/fuel?departmentId=${a.departmentId}`, { key: keys.financeB })).status).toBe(404);
    const filtered = await json<ReportRow[]>(`/api/v1/reports/fuel?${period()}&departmentId=${a.departmentId}`, keys.viewer);
    expect(filtered.map((r) => r.vehicleId)).toEqual([a.vehicleId]);
  });

  it('answers CSV', async () => {
    const res = await t.api(`/api/v1/reports/fuel?${period()}`, { headers: { accept: 'text/csv' } });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).trim().split('\r\n');
    expect(lines[0]!.split(',').slice(0, 6)).toEqual(['vehicleId', 'plateNumber', 'departmentId', 'kind', 'fuelType', 'distanceKm']);
    // Two vehicles and the totals row; department names and the period in local time (WITA).
    expect(lines).toHaveLength(4);
    const header = lines[0]!.split(',');
    expect(header.slice(-3)).toEqual(['departmentName', 'from', 'to']);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows[0]![header.indexOf('departmentName')]).toBe('Dinas Test');
    expect(rows[0]![header.indexOf('from')]).toBe(`${day1} 00:00 WITA`);
    const total = rows[2]!;
    expect(total[0]).toBe('TOTAL');
    const km = header.indexOf('distanceKm');
    expect(Number(total[km])).toBeCloseTo(Number(rows[0]![km]) + Number(rows[1]![km]), 3);
    expect(res.headers.get('content-disposition')).toContain(`fuel-report-${day1}-to-${day2}.csv`);
  });

  it('takes plain dates as local days: a plain `to` includes its whole day', async () => {
    const byDate = await json<ReportRow[]>(`/api/v1/reports/fuel?from=${day1}&to=${day2}`);
    const byTime = await json<ReportRow[]>(`/api/v1/reports/fuel?${period()}`);
    expect(byDate).toEqual(byTime);
    expect((await t.api('/api/v1/reports/fuel?from=2026-02-30')).status).toBe(400);
  });

  it('sums whole months from the month rows and the rest from the day rows, leaving out what it is told to', async () => {
    const c = await registerVehicleWithDevice(t, { plate: 'DH 5003 AN' });
    await t.testDb.database.query(
      `INSERT INTO vehicle_day_rollups (vehicle_id, day, points, distance_km, distance_outside_hours_km, driving_s, idle_s, engine_s, max_speed_kmh,
         trip_count, fuel_source, fuel_used_litres, counter_litres, sensor_litres, rated_litres, idle_litres, refuel_count, refuel_litres,
         drain_count, drain_litres, computed_at)
       SELECT $1::uuid, d::date, 100, extract(day from d) + 0.5, 1, 600, 60, 660, 50, 2, CASE WHEN extract(day from d) = 7 THEN 'rated' ELSE 'sensor' END,
              extract(day from d) / 10.0, NULL, CASE WHEN extract(day from d) = 7 THEN NULL ELSE extract(day from d) / 10.0 END, 1, 0.1, 1, 30, 0, 0, now()
         FROM generate_series('2025-01-15'::date, '2025-04-10'::date, interval '1 day') AS d`,
      [c.vehicleId],
    );
    const repo = t.services.repos.analytics;
    await repo.rebuildMonthRollups();
    const skip = [
      { vehicleId: c.vehicleId, day: '2025-02-10' },
      { vehicleId: c.vehicleId, day: '2025-01-25' },
    ];
    const sums = (await repo.rollupSums([c.vehicleId], '2025-01-20', '2025-04-05', skip)).get(c.vehicleId)!;
    const [expected] = await t.testDb.database.query<{
      days: number;
      km: number;
      litres: number;
      sensor: number;
      refuels: number;
      rated_days: number;
    }>(
      `SELECT count(*)::int AS days, sum(distance_km) AS km, sum(fuel_used_litres) AS litres, sum(sensor_litres) AS sensor, sum(refuel_count)::int AS refuels,
              count(*) FILTER (WHERE fuel_source = 'rated')::int AS rated_days
         FROM vehicle_day_rollups WHERE vehicle_id = $1 AND day BETWEEN '2025-01-20' AND '2025-04-05' AND day NOT IN ('2025-02-10', '2025-01-25')`,
      [c.vehicleId],
    );
    expect(sums.days).toBe(expected!.days);
    expect(sums.distanceKm).toBeCloseTo(expected!.km, 6);
    expect(sums.fuelUsedLitres).toBeCloseTo(expected!.litres, 6);
    expect(sums.sensorLitres).toBeCloseTo(expected!.sensor, 6);
    expect(sums.refuelCount).toBe(expected!.refuels);
    expect(sums.ratedDays).toBe(expected!.rated_days);
    expect(sums.activeWithoutSensor).toBe(expected!.rated_days);
  });
});

describe('simulator truth through the database and the API', () => {
  // Six vehicles of the demo fleet's kinds (sensors in litres and percent, a counter, none),
  // a Tuesday and a Wednesday a week or so before the days above (office cars stand still
  // at weekends, and a day they did not drive proves nothing), rolled up by the job and
  // read through the API.
  let sim: SimulatedRun;
  const vehicleIds = new Map<string, string>();
  let firstDay: string;
  const DAYS = 2;

  beforeAll(async () => {
    firstDay = addDays(day1, -5);
    while (isoWeekday(firstDay) !== 2) firstDay = addDays(firstDay, -1);
    const startMs = dayRangeMs(TZ, firstDay).startMs;
    const fleet = simulatedFleet(6, 'armada');
    sim = simulate(fleet, { seed: 77, startMs, schedule: 'realistic', drainRatePerDay: 1 }, startMs + DAYS * 86_400_000);
    const dep = (await (await t.api('/api/v1/departments', { method: 'POST', json: { code: 'SIMACC', name: 'Simulated' } })).json()) as {
      id: string;
    };
    simDepartmentId = dep.id;
    for (const v of fleet) {
      const res = await t.api('/api/v1/vehicles', {
        method: 'POST',
        json: {
          plateNumber: v.plateNumber,
          departmentId: dep.id,
          kind: v.kind ?? 'car',
          fuelType: v.fuelType ?? 'pertalite',
          tankCapacityLitres: v.tankCapacityLitres,
          ratedLitresPer100Km: v.ratedLitresPer100Km,
          idleLitresPerHour: v.idleLitresPerHour,
          monthlyAllocationLitres: 200,
        },
      });
      const vehicle = (await res.json()) as { id: string };
      await t.api('/api/v1/devices', { method: 'POST', json: { id: v.deviceId, vehicleId: vehicle.id } });
      vehicleIds.set(v.deviceId, vehicle.id);
      await insertReadings(t.testDb.database, { vehicleId: vehicle.id, deviceId: v.deviceId }, sim.readings.get(v.deviceId) ?? []);
    }
    await job.runOnce();
  }, 120_000);

  it('reports each vehicle-day’s litres and distance from the rollups', async () => {
    let sensorDays = 0;
    let sensorWithin = 0;
    for (const day of sim.days.filter((d) => !d.partial)) {
      const { startMs, endMs } = dayRangeMs(TZ, day.date);
      const res = await t.api(
        `/api/v1/vehicles/${vehicleIds.get(day.deviceId)}/fuel?from=${new Date(startMs).toISOString()}&to=${new Date(endMs).toISOString()}`,
      );
      const fuel = (await res.json()) as Fuel;
      const sensor = sim.vehicles.find((v) => v.deviceId === day.deviceId)!.sensor;
      if (day.distanceKm >= 1)
        expect(Math.abs(fuel.distanceKm - day.distanceKm), `${day.deviceId} ${day.date}`).toBeLessThanOrEqual(0.01 * day.distanceKm);
      if (day.litresUsed <= 0) continue;
      const error = Math.abs(fuel.fuelUsedLitres - day.litresUsed);
      if (sensor === 'counter') expect(error, `${day.deviceId} ${day.date}`).toBeLessThanOrEqual(Math.max(0.03 * day.litresUsed, 0.1));
      if (sensor === 'litres' || sensor === 'percent') {
        sensorDays++;
        if (error <= 0.03 * day.litresUsed) sensorWithin++;
        expect(error, `${day.deviceId} ${day.date}`).toBeLessThanOrEqual(Math.max(0.06 * day.litresUsed, 0.5));
      }
    }
    expect(sensorDays).toBeGreaterThanOrEqual(3);
    expect(sensorWithin / sensorDays).toBeGreaterThanOrEqual(0.8);
  });

  it('lists the refuels and drains the tank sensors saw', async () => {
    const from = new Date(dayRangeMs(TZ, firstDay).startMs).toISOString();
    const to = new Date(dayRangeMs(TZ, addDays(firstDay, DAYS)).startMs).toISOString();
    const found: Array<{ kind: string; deviceId: string; atMs: number; litres: number }> = [];
    for (const [deviceId, vehicleId] of vehicleIds) {
      const fuel = (await (await t.api(`/api/v1/vehicles/${vehicleId}/fuel?from=${from}&to=${to}`)).json()) as Fuel;
      for (const e of fuel.refuels) found.push({ kind: 'refuel', deviceId, atMs: Date.parse(e.at), litres: e.litres });
      for (const e of fuel.drains) found.push({ kind: 'drain', deviceId, atMs: Date.parse(e.at), litres: e.litres });
    }
    const level = new Set(
      sim.vehicles
        .filter((v) => v.sensor === 'litres' || v.sensor === 'percent' || (v.sensor === 'counter' && v.counterWithLevel !== false))
        .map((v) => v.deviceId),
    );
    const refuels = matchEvents(
      mergedTruth(
        sim.events.filter((e) => e.type === 'refuel' && level.has(e.deviceId)),
        DEFAULT_FUEL_SETTINGS.mergeGapS,
      ),
      found.filter((f) => f.kind === 'refuel'),
      10,
    );
    const drains = matchEvents(
      mergedTruth(
        sim.events.filter((e) => e.type === 'drain' && level.has(e.deviceId)),
        DEFAULT_FUEL_SETTINGS.mergeGapS,
      ),
      found.filter((f) => f.kind === 'drain'),
      8,
    );
    expect(refuels.truth + drains.truth).toBeGreaterThanOrEqual(3);
    expect(refuels.recall).toBe(1);
    expect(refuels.precision).toBe(1);
    expect(refuels.maxVolumeError).toBeLessThanOrEqual(0.05);
    expect(drains.recall).toBe(1);
    expect(drains.precision).toBe(1);
  });

  it('adds up the fleet report to the truth', async () => {
    const from = new Date(dayRangeMs(TZ, addDays(firstDay, 1)).startMs).toISOString();
    const to = new Date(dayRangeMs(TZ, addDays(firstDay, 2)).startMs).toISOString();
    const rows = (await (await t.api(`/api/v1/reports/fuel?from=${from}&to=${to}&departmentId=${simDepartmentId}`)).json()) as Array<{
      vehicleId: string;
      distanceKm: number;
      fuelUsedLitres: number;
    }>;
    expect(rows).toHaveLength(6);
    const day = addDays(firstDay, 1);
    for (const [deviceId, vehicleId] of vehicleIds) {
      const truth = sim.days.find((d) => d.deviceId === deviceId && d.date === day)!;
      const row = rows.find((r) => r.vehicleId === vehicleId)!;
      expect(Math.abs(row.distanceKm - truth.distanceKm), deviceId).toBeLessThanOrEqual(Math.max(0.01 * truth.distanceKm, 0.01));
    }
  });
});
