/**
 * The benchmarks' data, written in plain SQL (the API, the ingest and the rollup job would
 * take minutes and are not what these benches measure): the fleet with its departments and
 * devices, a run of daily rollups for every vehicle, and the rollup job's state.
 */
import type { Database } from '../src/db/client.js';
import { hashDeviceSecret } from '../src/security/secrets.js';

export function benchDeviceId(index: number): string {
  return `bench-${String(index + 1).padStart(5, '0')}`;
}

/**
 * One vehicle per device, a hundred vehicles per department, written with `unnest`:
 * the registry API would take minutes for 10,000 devices and is not what is measured.
 */
export async function seedFleet(database: Database, deviceCount: number): Promise<string[]> {
  const departmentCount = Math.max(1, Math.ceil(deviceCount / 100));
  const departments = await database.query<{ id: string }>(
    `INSERT INTO departments (code, name)
     SELECT 'BENCH-' || g, 'Bench department ' || g FROM generate_series(1, $1::int) AS g
     RETURNING id`,
    [departmentCount],
  );
  const deviceIds = Array.from({ length: deviceCount }, (_, i) => benchDeviceId(i));
  const plates = deviceIds.map((_, i) => `DH ${i + 1} BN`);
  const vehicleDepartments = deviceIds.map((_, i) => departments[i % departments.length]!.id);
  const vehicles = await database.query<{ id: string; plate_number: string }>(
    `INSERT INTO vehicles (plate_number, department_id, kind, fuel_type, tank_capacity_litres,
       rated_litres_per_100km, idle_litres_per_hour, monthly_allocation_litres)
     SELECT plate, department, 'pickup', 'solar', 80, 12, 1.5, 400
     FROM unnest($1::text[], $2::uuid[]) AS v(plate, department)
     RETURNING id, plate_number`,
    [plates, vehicleDepartments],
  );
  const vehicleByPlate = new Map(vehicles.map((v) => [v.plate_number, v.id]));
  await database.query(
    `INSERT INTO devices (id, vehicle_id, secret_hash)
     SELECT id, vehicle, $3 FROM unnest($1::text[], $2::uuid[]) AS d(id, vehicle)`,
    // One real hash for all: the broker here does not authenticate, and PBKDF2 per device would only slow the seeding.
    [deviceIds, plates.map((p) => vehicleByPlate.get(p)!), hashDeviceSecret('bench-device-secret')],
  );
  return deviceIds;
}

/**
 * Working hours round the clock for every department: the benches' traffic stops and starts
 * every few readings, so with the default hours each restart in an evening or on a weekend
 * is a new out-of-hours alert (22,807 in 100,000 readings, measured on a Sunday), and what
 * PostgreSQL spends per reading would depend on when the bench runs. The rules are still
 * evaluated for every reading; only the alert rows are not written.
 */
export async function seedRoundTheClockHours(database: Database): Promise<void> {
  await database.query(
    `INSERT INTO department_alert_rules (department_id, weekdays, start_min, end_min)
     SELECT id, ARRAY[1, 2, 3, 4, 5, 6, 7], 0, 1440 FROM departments
     ON CONFLICT (department_id) DO UPDATE SET weekdays = excluded.weekdays, start_min = 0, end_min = 1440`,
  );
}

/** What the seeded rollup days look like; every figure but the kilometres follows from the day's kilometres. */
export interface DayRollupSeed {
  firstDay: string;
  lastDay: string;
  /** The kilometres of a day: kmMin + a random share of kmSpan. */
  kmMin: number;
  kmSpan: number;
  /** The share of the kilometres driven outside working hours. */
  outsideHoursShare: number;
  /** Rated litres a kilometre (plus 0.75 L idling a day). */
  ratedLitresPerKm: number;
  /** The chance a day counts a 40 L refuel. */
  refuelChance: number;
  /** The tank at the day's start and end: min + a random share of span. */
  startLevel: { min: number; span: number };
  endLevel: { min: number; span: number };
  /** When the rows say they were computed; null: now. */
  computedAt: string | null;
  /** A vehicle left out (one whose days the bench computes from readings). */
  exceptVehicleId?: string;
}

/** One sensor-measured rollup row per vehicle and day of [firstDay, lastDay], 0.12 L a km (the month rows are the caller's to rebuild). */
export async function seedDayRollups(database: Database, seed: DayRollupSeed): Promise<void> {
  await database.query(
    `INSERT INTO vehicle_day_rollups (vehicle_id, day, points, distance_km, distance_outside_hours_km, driving_s, idle_s, engine_s, max_speed_kmh,
       trip_count, fuel_source, fuel_used_litres, counter_litres, sensor_litres, rated_litres, idle_litres, refuel_count, refuel_litres,
       drain_count, drain_litres, start_level_litres, end_level_litres, first_fix_at, last_fix_at, computed_at)
     SELECT v.id, d::date, 3000, km, km * $6::float8, km * 100, 1800, km * 100 + 1800, 60, 8, 'sensor', km * 0.12, NULL, km * 0.12,
            km * $7::float8 + 0.75, 0.75, (random() < $8::float8)::int, CASE WHEN random() < $8::float8 THEN 40 ELSE 0 END, 0, 0,
            $9::float8 + random() * $10::float8, $11::float8 + random() * $12::float8, d, d + interval '23 hours', coalesce($13::timestamptz, now())
       FROM vehicles v CROSS JOIN generate_series($2::date, $3::date, interval '1 day') AS d,
            LATERAL (SELECT $4::float8 + random() * $5::float8 AS km) AS k
      WHERE $1::uuid IS NULL OR v.id <> $1::uuid
     ON CONFLICT DO NOTHING`,
    [
      seed.exceptVehicleId ?? null,
      seed.firstDay,
      seed.lastDay,
      seed.kmMin,
      seed.kmSpan,
      seed.outsideHoursShare,
      seed.ratedLitresPerKm,
      seed.refuelChance,
      seed.startLevel.min,
      seed.startLevel.span,
      seed.endLevel.min,
      seed.endLevel.span,
      seed.computedAt,
    ],
  );
}

/**
 * The rollup job's state for every vehicle: computed at `at` (seen just before it when `at`
 * is null: now), so the reports read the seeded rollups instead of recomputing the days.
 */
export async function seedAnalyticsState(database: Database, at: string | null): Promise<void> {
  await database.query(
    `INSERT INTO analytics_vehicle_state (vehicle_id, seen_at, computed_at)
     SELECT id, coalesce($1::timestamptz, now() - interval '1 minute'), coalesce($1::timestamptz, now()) FROM vehicles
     ON CONFLICT (vehicle_id) DO NOTHING`,
    [at],
  );
}
