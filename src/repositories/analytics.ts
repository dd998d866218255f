/**
 * The analytics' SQL: readings for analysis, the daily rollups with their trips, stops
 * and fuel events, the rollup job's bookkeeping, and the fleet report's sums. Raw SQL:
 * these queries move many rows (a month of 10-second readings is 259,200) and
 * drizzle's row mapping would be the cost.
 */
import type { Database, Queryable } from '../db/client.js';
import type { WindowAnalysis, SegmentPiece } from '../domain/analysis.js';
import type { FuelEvent, FuelSource } from '../domain/fuel/index.js';
import { addDays, lastDayOfMonth, monthOf, nextMonth, type LocalDay } from '../domain/report-time.js';
import type { AnalysisReading } from '../domain/trips.js';

export interface RollupRow {
  vehicleId: string;
  day: LocalDay;
  points: number;
  distanceKm: number;
  distanceOutsideHoursKm: number;
  drivingS: number;
  idleS: number;
  engineS: number;
  maxSpeedKmh: number;
  tripCount: number;
  fuelSource: FuelSource;
  fuelUsedLitres: number;
  counterLitres: number | null;
  sensorLitres: number | null;
  ratedLitres: number;
  idleLitres: number;
  refuelCount: number;
  refuelLitres: number;
  drainCount: number;
  drainLitres: number;
  startLevelLitres: number | null;
  endLevelLitres: number | null;
  computedAt: Date;
}

/** Sums of one vehicle's rollups over a run of days (the fleet report). */
export interface RollupSums {
  vehicleId: string;
  days: number;
  activeDays: number;
  activeWithoutCounter: number;
  activeWithoutSensor: number;
  /** Active days measured by each source (the best that day had). */
  ratedDays: number;
  sensorDays: number;
  points: number;
  distanceKm: number;
  distanceOutsideHoursKm: number;
  drivingS: number;
  idleS: number;
  engineS: number;
  maxSpeedKmh: number;
  tripCount: number;
  fuelUsedLitres: number;
  counterLitres: number | null;
  sensorLitres: number | null;
  ratedLitres: number;
  idleLitres: number;
  counterIdleLitres: number;
  refuelCount: number;
  refuelLitres: number;
  drainCount: number;
  drainLitres: number;
}

export interface StoredDays {
  rollups: Map<LocalDay, RollupRow>;
  segments: Map<LocalDay, SegmentPiece[]>;
  events: Map<LocalDay, FuelEvent[]>;
}

export interface VehicleState {
  seenAtMs: number | null;
  computedAtMs: number;
}

/** A vehicle whose trackers reported since the job last looked. */
export interface RefreshCandidate {
  vehicleId: string;
  seenAtMs: number | null;
  state: VehicleState | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Date.parse(String(v)));
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

/** The sums a run of days (or months) adds up to; `r` is day rows with an `active` column. */
const DAY_AGGREGATES = `count(*)::int AS days, count(*) FILTER (WHERE active)::int AS active_days,
  count(*) FILTER (WHERE active AND counter_litres IS NULL)::int AS active_without_counter,
  count(*) FILTER (WHERE active AND sensor_litres IS NULL)::int AS active_without_sensor,
  count(*) FILTER (WHERE active AND fuel_source = 'rated')::int AS rated_days,
  count(*) FILTER (WHERE active AND fuel_source = 'sensor')::int AS sensor_days,
  sum(points)::float8 AS points, sum(distance_km) AS distance_km, sum(distance_outside_hours_km) AS distance_outside_hours_km,
  sum(driving_s) AS driving_s, sum(idle_s) AS idle_s, sum(engine_s) AS engine_s, max(max_speed_kmh)::float8 AS max_speed_kmh,
  sum(trip_count)::float8 AS trip_count, sum(fuel_used_litres) AS fuel_used_litres, sum(counter_litres) AS counter_litres,
  sum(sensor_litres) AS sensor_litres, sum(rated_litres) AS rated_litres, sum(idle_litres) AS idle_litres,
  coalesce(sum(idle_litres) FILTER (WHERE fuel_source = 'counter'), 0) AS counter_idle_litres,
  sum(refuel_count)::float8 AS refuel_count, sum(refuel_litres) AS refuel_litres,
  sum(drain_count)::float8 AS drain_count, sum(drain_litres) AS drain_litres`;

/** The same sums over month rows. */
const MONTH_AGGREGATES = `sum(days)::int AS days, sum(active_days)::int AS active_days, sum(active_without_counter)::int AS active_without_counter,
  sum(active_without_sensor)::int AS active_without_sensor, sum(rated_days)::int AS rated_days, sum(sensor_days)::int AS sensor_days,
  sum(points) AS points, sum(distance_km) AS distance_km, sum(distance_outside_hours_km) AS distance_outside_hours_km,
  sum(driving_s) AS driving_s, sum(idle_s) AS idle_s, sum(engine_s) AS engine_s, max(max_speed_kmh) AS max_speed_kmh,
  sum(trip_count) AS trip_count, sum(fuel_used_litres) AS fuel_used_litres, sum(counter_litres) AS counter_litres,
  sum(sensor_litres) AS sensor_litres, sum(rated_litres) AS rated_litres, sum(idle_litres) AS idle_litres,
  sum(counter_idle_litres) AS counter_idle_litres, sum(refuel_count) AS refuel_count, sum(refuel_litres) AS refuel_litres,
  sum(drain_count) AS drain_count, sum(drain_litres) AS drain_litres`;

const MONTH_COLUMNS = `days, active_days, active_without_counter, active_without_sensor, rated_days, sensor_days, points, distance_km,
  distance_outside_hours_km, driving_s, idle_s, engine_s, max_speed_kmh, trip_count, fuel_used_litres, counter_litres, sensor_litres,
  rated_litres, idle_litres, counter_idle_litres, refuel_count, refuel_litres, drain_count, drain_litres`;

function toSums(r: Record<string, unknown>): RollupSums {
  return {
    vehicleId: String(r.vehicle_id),
    days: num(r.days),
    activeDays: num(r.active_days),
    activeWithoutCounter: num(r.active_without_counter),
    activeWithoutSensor: num(r.active_without_sensor),
    ratedDays: num(r.rated_days),
    sensorDays: num(r.sensor_days),
    points: num(r.points),
    distanceKm: num(r.distance_km),
    distanceOutsideHoursKm: num(r.distance_outside_hours_km),
    drivingS: num(r.driving_s),
    idleS: num(r.idle_s),
    engineS: num(r.engine_s),
    maxSpeedKmh: num(r.max_speed_kmh),
    tripCount: num(r.trip_count),
    fuelUsedLitres: num(r.fuel_used_litres),
    counterLitres: numOrNull(r.counter_litres),
    sensorLitres: numOrNull(r.sensor_litres),
    ratedLitres: num(r.rated_litres),
    idleLitres: num(r.idle_litres),
    counterIdleLitres: numOrNull(r.counter_idle_litres) ?? 0,
    refuelCount: num(r.refuel_count),
    refuelLitres: num(r.refuel_litres),
    drainCount: num(r.drain_count),
    drainLitres: num(r.drain_litres),
  };
}

const addNullable = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : a + b);

function addSums(a: RollupSums, b: RollupSums): RollupSums {
  return {
    vehicleId: a.vehicleId,
    days: a.days + b.days,
    activeDays: a.activeDays + b.activeDays,
    activeWithoutCounter: a.activeWithoutCounter + b.activeWithoutCounter,
    activeWithoutSensor: a.activeWithoutSensor + b.activeWithoutSensor,
    ratedDays: a.ratedDays + b.ratedDays,
    sensorDays: a.sensorDays + b.sensorDays,
    points: a.points + b.points,
    distanceKm: a.distanceKm + b.distanceKm,
    distanceOutsideHoursKm: a.distanceOutsideHoursKm + b.distanceOutsideHoursKm,
    drivingS: a.drivingS + b.drivingS,
    idleS: a.idleS + b.idleS,
    engineS: a.engineS + b.engineS,
    maxSpeedKmh: Math.max(a.maxSpeedKmh, b.maxSpeedKmh),
    tripCount: a.tripCount + b.tripCount,
    fuelUsedLitres: a.fuelUsedLitres + b.fuelUsedLitres,
    counterLitres: addNullable(a.counterLitres, b.counterLitres),
    sensorLitres: addNullable(a.sensorLitres, b.sensorLitres),
    ratedLitres: a.ratedLitres + b.ratedLitres,
    idleLitres: a.idleLitres + b.idleLitres,
    counterIdleLitres: a.counterIdleLitres + b.counterIdleLitres,
    refuelCount: a.refuelCount + b.refuelCount,
    refuelLitres: a.refuelLitres + b.refuelLitres,
    drainCount: a.drainCount + b.drainCount,
    drainLitres: a.drainLitres + b.drainLitres,
  };
}

/** Rewrites a vehicle's month row from its day rows (none left: no row). */
async function refreshMonth(tx: Queryable, vehicleId: string, month: LocalDay): Promise<void> {
  await tx.query('DELETE FROM vehicle_month_rollups WHERE vehicle_id = $1 AND month = $2', [vehicleId, month]);
  await tx.query(
    `INSERT INTO vehicle_month_rollups (vehicle_id, month, ${MONTH_COLUMNS})
     SELECT vehicle_id, $2::date, ${DAY_AGGREGATES}
       FROM (SELECT *, (distance_km > 0 OR engine_s > 0) AS active FROM vehicle_day_rollups
              WHERE vehicle_id = $1 AND day >= $2::date AND day < ($2::date + interval '1 month')) AS r
      GROUP BY vehicle_id`,
    [vehicleId, month],
  );
}

const READING_COLUMNS = `(extract(epoch from fix_at) * 1000)::float8 AS t, lat, lon, speed_kmh, ignition, odometer_km, hdop, satellites::float8 AS satellites,
  fuel_litres, fuel_percent, fuel_used_litres`;

function toReading(r: Record<string, unknown>): AnalysisReading {
  return {
    fixAtMs: num(r.t),
    lat: num(r.lat),
    lon: num(r.lon),
    speedKmh: numOrNull(r.speed_kmh),
    ignition: (r.ignition as boolean | null) ?? null,
    odometerKm: numOrNull(r.odometer_km),
    hdop: numOrNull(r.hdop),
    satellites: numOrNull(r.satellites),
    fuelLitres: numOrNull(r.fuel_litres),
    fuelPercent: numOrNull(r.fuel_percent),
    fuelUsedLitres: numOrNull(r.fuel_used_litres),
  };
}

function toRollup(r: Record<string, unknown>): RollupRow {
  return {
    vehicleId: String(r.vehicle_id),
    day: String(r.day),
    points: num(r.points),
    distanceKm: num(r.distance_km),
    distanceOutsideHoursKm: num(r.distance_outside_hours_km),
    drivingS: num(r.driving_s),
    idleS: num(r.idle_s),
    engineS: num(r.engine_s),
    maxSpeedKmh: num(r.max_speed_kmh),
    tripCount: num(r.trip_count),
    fuelSource: r.fuel_source as FuelSource,
    fuelUsedLitres: num(r.fuel_used_litres),
    counterLitres: numOrNull(r.counter_litres),
    sensorLitres: numOrNull(r.sensor_litres),
    ratedLitres: num(r.rated_litres),
    idleLitres: num(r.idle_litres),
    refuelCount: num(r.refuel_count),
    refuelLitres: num(r.refuel_litres),
    drainCount: num(r.drain_count),
    drainLitres: num(r.drain_litres),
    startLevelLitres: numOrNull(r.start_level_litres),
    endLevelLitres: numOrNull(r.end_level_litres),
    computedAt: new Date(ms(r.computed_at)),
  };
}

async function saveDay(tx: Queryable, vehicleId: string, day: LocalDay, a: WindowAnalysis, computedAtMs: number): Promise<void> {
  await tx.query('DELETE FROM vehicle_day_segments WHERE vehicle_id = $1 AND day = $2', [vehicleId, day]);
  await tx.query('DELETE FROM vehicle_fuel_events WHERE vehicle_id = $1 AND day = $2', [vehicleId, day]);
  const m = a.metrics;
  const f = a.fuel;
  if (m.points === 0 && a.segments.length === 0) {
    // Nothing happened that day (any more): no row, which the reports read as zero.
    await tx.query('DELETE FROM vehicle_day_rollups WHERE vehicle_id = $1 AND day = $2', [vehicleId, day]);
    return;
  }
  const sum = (events: readonly FuelEvent[]) => events.reduce((s, e) => s + e.litres, 0);
  await tx.query(
    `INSERT INTO vehicle_day_rollups (vehicle_id, day, points, distance_km, distance_outside_hours_km, driving_s, idle_s, engine_s,
       max_speed_kmh, trip_count, fuel_source, fuel_used_litres, counter_litres, sensor_litres, rated_litres, idle_litres,
       refuel_count, refuel_litres, drain_count, drain_litres, start_level_litres, end_level_litres, first_fix_at, last_fix_at, computed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
     ON CONFLICT (vehicle_id, day) DO UPDATE SET
       points = excluded.points, distance_km = excluded.distance_km, distance_outside_hours_km = excluded.distance_outside_hours_km,
       driving_s = excluded.driving_s, idle_s = excluded.idle_s, engine_s = excluded.engine_s, max_speed_kmh = excluded.max_speed_kmh,
       trip_count = excluded.trip_count, fuel_source = excluded.fuel_source, fuel_used_litres = excluded.fuel_used_litres,
       counter_litres = excluded.counter_litres, sensor_litres = excluded.sensor_litres, rated_litres = excluded.rated_litres,
       idle_litres = excluded.idle_litres, refuel_count = excluded.refuel_count, refuel_litres = excluded.refuel_litres,
       drain_count = excluded.drain_count, drain_litres = excluded.drain_litres, start_level_litres = excluded.start_level_litres,
       end_level_litres = excluded.end_level_litres, first_fix_at = excluded.first_fix_at, last_fix_at = excluded.last_fix_at,
       computed_at = excluded.computed_at`,
    [
      vehicleId,
      day,
      m.points,
      m.distanceM / 1000,
      m.distanceOutsideHoursM / 1000,
      m.drivingS,
      m.idleS,
      m.engineS,
      m.maxSpeedKmh,
      a.segments.filter((s) => s.kind === 'trip' && !s.clippedStart).length,
      f.source,
      f.usedLitres,
      f.counterLitres,
      f.sensorLitres,
      f.ratedLitres,
      f.idleLitres,
      f.refuels.length,
      sum(f.refuels),
      f.drains.length,
      sum(f.drains),
      f.startLevelLitres,
      f.endLevelLitres,
      m.firstFixMs === null ? null : iso(m.firstFixMs),
      m.lastFixMs === null ? null : iso(m.lastFixMs),
      iso(computedAtMs),
    ],
  );
  const segs = a.segments;
  if (segs.length > 0) {
    await tx.query(
      `INSERT INTO vehicle_day_segments (vehicle_id, day, seq, kind, start_at, end_at, clipped_start, clipped_end, distance_km, max_speed_kmh,
         fuel_used_litres, start_lat, start_lon, end_lat, end_lon, driving_s, idle_s, engine_on_s)
       SELECT $1::uuid, $2::date, * FROM unnest($3::smallint[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::boolean[], $8::boolean[],
         $9::float8[], $10::real[], $11::float8[], $12::float8[], $13::float8[], $14::float8[], $15::float8[], $16::float8[], $17::float8[], $18::float8[])`,
      [
        vehicleId,
        day,
        segs.map((_, i) => i),
        segs.map((s) => s.kind),
        segs.map((s) => iso(s.startMs)),
        segs.map((s) => iso(s.endMs)),
        segs.map((s) => s.clippedStart),
        segs.map((s) => s.clippedEnd),
        segs.map((s) => s.distanceM / 1000),
        segs.map((s) => s.maxSpeedKmh),
        segs.map((s) => s.fuelUsedLitres),
        segs.map((s) => s.startLat),
        segs.map((s) => s.startLon),
        segs.map((s) => s.endLat),
        segs.map((s) => s.endLon),
        segs.map((s) => s.drivingS),
        segs.map((s) => s.idleS),
        segs.map((s) => s.engineOnS),
      ],
    );
  }
  const events = [...f.refuels, ...f.drains].sort((x, y) => x.atMs - y.atMs);
  if (events.length > 0) {
    await tx.query(
      `INSERT INTO vehicle_fuel_events (vehicle_id, day, seq, kind, at, end_at, lat, lon, litres, level_before_litres, level_after_litres, moving)
       SELECT $1::uuid, $2::date, * FROM unnest($3::smallint[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::float8[], $8::float8[],
         $9::float8[], $10::real[], $11::real[], $12::boolean[])`,
      [
        vehicleId,
        day,
        events.map((_, i) => i),
        events.map((e) => e.kind),
        events.map((e) => iso(e.atMs)),
        events.map((e) => iso(e.endMs)),
        events.map((e) => e.lat),
        events.map((e) => e.lon),
        events.map((e) => e.litres),
        events.map((e) => e.levelBeforeLitres),
        events.map((e) => e.levelAfterLitres),
        events.map((e) => e.moving),
      ],
    );
  }
}

const ROLLUP_LOCK_KEY = 0x41524d44; // "ARMD"

export function analyticsRepository(database: Database) {
  return {
    /**
     * Runs `fn` as the only rollup job at work: on PostgreSQL under an advisory lock held by
     * a transaction of its own (a session lock on a pooled connection could be released on
     * another one; `fn`'s queries go through the pool as usual); PGlite has one process.
     * Without `wait`, answers undefined at once when another process holds it.
     */
    async withJobLock<T>(wait: boolean, fn: () => Promise<T>): Promise<T | undefined> {
      if (database.kind === 'pglite') return fn();
      return database.transaction(async (tx) => {
        if (wait) {
          await tx.query('SELECT pg_advisory_xact_lock($1)', [ROLLUP_LOCK_KEY]);
        } else {
          const [row] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [ROLLUP_LOCK_KEY]);
          if (!row?.locked) return undefined;
        }
        return fn();
      });
    },
    /** The vehicle's readings with fix time in [fromMs, toMs), in fix-time order. */
    async readings(vehicleId: string, fromMs: number, toMs: number): Promise<AnalysisReading[]> {
      const rows = await database.query(
        `SELECT ${READING_COLUMNS} FROM telemetry WHERE vehicle_id = $1 AND fix_at >= $2 AND fix_at < $3 ORDER BY fix_at`,
        [vehicleId, iso(fromMs), iso(toMs)],
      );
      return rows.map(toReading);
    },

    /** Readings of several vehicles at once, per vehicle in fix-time order. */
    async readingsOfVehicles(vehicleIds: readonly string[], fromMs: number, toMs: number): Promise<Map<string, AnalysisReading[]>> {
      const out = new Map<string, AnalysisReading[]>();
      if (vehicleIds.length === 0) return out;
      const rows = await database.query(
        `SELECT vehicle_id, ${READING_COLUMNS} FROM telemetry WHERE vehicle_id = ANY($1::uuid[]) AND fix_at >= $2 AND fix_at < $3
          ORDER BY vehicle_id, fix_at`,
        [vehicleIds, iso(fromMs), iso(toMs)],
      );
      for (const r of rows) {
        const id = String(r.vehicle_id);
        let list = out.get(id);
        if (!list) out.set(id, (list = []));
        list.push(toReading(r));
      }
      return out;
    },

    /** Replaces the stored figures of these days (one transaction, so readers never see half a day). */
    async saveDays(
      vehicleId: string,
      days: ReadonlyArray<{ day: LocalDay; analysis: WindowAnalysis }>,
      computedAtMs: number,
    ): Promise<void> {
      await database.transaction(async (tx) => {
        for (const d of days) await saveDay(tx, vehicleId, d.day, d.analysis, computedAtMs);
        for (const month of new Set(days.map((d) => monthOf(d.day)))) await refreshMonth(tx, vehicleId, month);
      });
    },

    /** The stored rollups, trips, stops and fuel events of [firstDay, lastDay]. */
    async storedDays(vehicleId: string, firstDay: LocalDay, lastDay: LocalDay): Promise<StoredDays> {
      const [rollups, segments, events] = await Promise.all([
        database.query(`SELECT *, day::text AS day FROM vehicle_day_rollups WHERE vehicle_id = $1 AND day BETWEEN $2 AND $3`, [
          vehicleId,
          firstDay,
          lastDay,
        ]),
        database.query(
          `SELECT day::text AS day, kind, (extract(epoch from start_at) * 1000)::float8 AS s, (extract(epoch from end_at) * 1000)::float8 AS e,
                  clipped_start, clipped_end, distance_km, max_speed_kmh, fuel_used_litres, start_lat, start_lon, end_lat, end_lon,
                  driving_s, idle_s, engine_on_s
             FROM vehicle_day_segments WHERE vehicle_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day, seq`,
          [vehicleId, firstDay, lastDay],
        ),
        database.query(
          `SELECT day::text AS day, kind, (extract(epoch from at) * 1000)::float8 AS a, (extract(epoch from end_at) * 1000)::float8 AS e,
                  lat, lon, litres, level_before_litres, level_after_litres, moving
             FROM vehicle_fuel_events WHERE vehicle_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day, seq`,
          [vehicleId, firstDay, lastDay],
        ),
      ]);
      const out: StoredDays = { rollups: new Map(), segments: new Map(), events: new Map() };
      for (const r of rollups) out.rollups.set(String(r.day), toRollup(r));
      for (const r of segments) {
        const day = String(r.day);
        let list = out.segments.get(day);
        if (!list) out.segments.set(day, (list = []));
        list.push({
          kind: r.kind as 'trip' | 'stop',
          startMs: num(r.s),
          endMs: num(r.e),
          clippedStart: Boolean(r.clipped_start),
          clippedEnd: Boolean(r.clipped_end),
          distanceM: num(r.distance_km) * 1000,
          maxSpeedKmh: num(r.max_speed_kmh),
          fuelUsedLitres: num(r.fuel_used_litres),
          startLat: num(r.start_lat),
          startLon: num(r.start_lon),
          endLat: num(r.end_lat),
          endLon: num(r.end_lon),
          drivingS: num(r.driving_s),
          idleS: num(r.idle_s),
          engineOnS: num(r.engine_on_s),
        });
      }
      for (const r of events) {
        const day = String(r.day);
        let list = out.events.get(day);
        if (!list) out.events.set(day, (list = []));
        list.push({
          kind: r.kind as 'refuel' | 'drain',
          atMs: num(r.a),
          endMs: num(r.e),
          lat: num(r.lat),
          lon: num(r.lon),
          litres: num(r.litres),
          levelBeforeLitres: num(r.level_before_litres),
          levelAfterLitres: num(r.level_after_litres),
          moving: Boolean(r.moving),
        });
      }
      return out;
    },

    /** Rewrites every month row from the day rows (after day rows were written by other means: a restore, the benchmark). */
    async rebuildMonthRollups(): Promise<void> {
      await database.transaction(async (tx) => {
        await tx.query('DELETE FROM vehicle_month_rollups');
        await tx.query(
          `INSERT INTO vehicle_month_rollups (vehicle_id, month, ${MONTH_COLUMNS})
           SELECT vehicle_id, date_trunc('month', day)::date, ${DAY_AGGREGATES}
             FROM (SELECT *, (distance_km > 0 OR engine_s > 0) AS active FROM vehicle_day_rollups) AS r
            GROUP BY vehicle_id, date_trunc('month', day)`,
        );
      });
    },

    /** Where the rollup job stands with these vehicles. */
    async states(vehicleIds: readonly string[]): Promise<Map<string, VehicleState>> {
      const rows =
        vehicleIds.length === 0
          ? []
          : await database.query(
              `SELECT vehicle_id, seen_at, computed_at FROM analytics_vehicle_state WHERE vehicle_id = ANY($1::uuid[])`,
              [vehicleIds],
            );
      return new Map(
        rows.map((r) => [String(r.vehicle_id), { seenAtMs: r.seen_at === null ? null : ms(r.seen_at), computedAtMs: ms(r.computed_at) }]),
      );
    },

    /** Late-data marks still waiting for the job, for these vehicles and days. */
    async lateMarks(
      vehicleIds: readonly string[],
      firstDay: LocalDay,
      lastDay: LocalDay,
    ): Promise<Array<{ vehicleId: string; day: LocalDay }>> {
      if (vehicleIds.length === 0) return [];
      const rows = await database.query(
        `SELECT vehicle_id, day::text AS day FROM telemetry_late_days WHERE vehicle_id = ANY($1::uuid[]) AND day BETWEEN $2 AND $3`,
        [vehicleIds, firstDay, lastDay],
      );
      return rows.map((r) => ({ vehicleId: String(r.vehicle_id), day: String(r.day) }));
    },

    /**
     * Vehicles whose trackers were heard from after the job last computed them, or that
     * were computed too soon after their last reading to be sure every reading then
     * received had been committed; and vehicles with readings the job has never seen.
     */
    async refreshCandidates(settleMs: number): Promise<RefreshCandidate[]> {
      const rows = await database.query(
        `SELECT v.id AS vehicle_id, d.seen_at, s.seen_at AS state_seen_at, s.computed_at
           FROM vehicles v
           JOIN LATERAL (SELECT max(last_seen_at) AS seen_at FROM devices WHERE vehicle_id = v.id) d ON true
           LEFT JOIN analytics_vehicle_state s ON s.vehicle_id = v.id
          WHERE d.seen_at IS NOT NULL
            AND (s.vehicle_id IS NULL OR s.seen_at IS NULL OR d.seen_at > s.seen_at
                 OR s.computed_at < s.seen_at + $1 * interval '1 millisecond')`,
        [settleMs],
      );
      return rows.map((r) => ({
        vehicleId: String(r.vehicle_id),
        seenAtMs: r.seen_at === null ? null : ms(r.seen_at),
        state:
          r.computed_at === null
            ? null
            : { seenAtMs: r.state_seen_at === null ? null : ms(r.state_seen_at), computedAtMs: ms(r.computed_at) },
      }));
    },

    /** The vehicle's first and last fix times, or null without readings. */
    async fixRange(vehicleId: string): Promise<{ firstMs: number; lastMs: number } | null> {
      const [first] = await database.query(`SELECT fix_at FROM telemetry WHERE vehicle_id = $1 ORDER BY fix_at LIMIT 1`, [vehicleId]);
      if (!first) return null;
      const [last] = await database.query(`SELECT fix_at FROM telemetry WHERE vehicle_id = $1 ORDER BY fix_at DESC LIMIT 1`, [vehicleId]);
      return { firstMs: ms(first.fix_at), lastMs: ms(last!.fix_at) };
    },

    async setState(vehicleId: string, seenAtMs: number | null, computedAtMs: number): Promise<void> {
      await database.query(
        `INSERT INTO analytics_vehicle_state (vehicle_id, seen_at, computed_at) VALUES ($1, $2, $3)
         ON CONFLICT (vehicle_id) DO UPDATE SET seen_at = excluded.seen_at, computed_at = excluded.computed_at`,
        [vehicleId, seenAtMs === null ? null : iso(seenAtMs), iso(computedAtMs)],
      );
    },

    /**
     * Late-data marks, oldest first, at most `limit`, each with its `marked_at` exactly as
     * stored (text: microseconds matter for `clearLateDays`).
     */
    async pendingLateDays(limit: number): Promise<Array<{ vehicleId: string; day: LocalDay; markedAt: string }>> {
      const rows = await database.query(
        `SELECT vehicle_id, day::text AS day, marked_at::text AS marked_at FROM telemetry_late_days
          ORDER BY marked_at, vehicle_id, day LIMIT $1`,
        [limit],
      );
      return rows.map((r) => ({ vehicleId: String(r.vehicle_id), day: String(r.day), markedAt: String(r.marked_at) }));
    },

    /**
     * Removes the marks a run handled, each only if it is still the mark the run read: a
     * reading that arrives meanwhile re-marks its day (a new `marked_at`), and that mark stays.
     */
    async clearLateDays(vehicleId: string, marks: ReadonlyArray<{ day: LocalDay; markedAt: string }>): Promise<void> {
      if (marks.length === 0) return;
      await database.query(
        `DELETE FROM telemetry_late_days t USING unnest($2::date[], $3::timestamptz[]) AS m(day, marked_at)
          WHERE t.vehicle_id = $1 AND t.day = m.day AND t.marked_at = m.marked_at`,
        [vehicleId, marks.map((m) => m.day), marks.map((m) => m.markedAt)],
      );
    },

    /**
     * Sums of the stored rollups per vehicle over [firstDay, lastDay], leaving out the
     * (vehicle, day) pairs the caller will compute from readings instead. Whole calendar
     * months come from the month rows; the days of partial months (and of months with a
     * day left out) from the day rows.
     */
    async rollupSums(
      vehicleIds: readonly string[],
      firstDay: LocalDay,
      lastDay: LocalDay,
      skip: ReadonlyArray<{ vehicleId: string; day: LocalDay }> = [],
    ): Promise<Map<string, RollupSums>> {
      const out = new Map<string, RollupSums>();
      if (vehicleIds.length === 0 || lastDay < firstDay) return out;
      const wholeMonths: LocalDay[] = [];
      for (let m = monthOf(firstDay); m <= lastDay; m = monthOf(nextMonth(m))) {
        const last = lastDayOfMonth(m);
        if (m >= firstDay && last <= lastDay) wholeMonths.push(m);
      }
      const skipMonths = [
        ...new Set(skip.filter((x) => wholeMonths.includes(monthOf(x.day))).map((x) => `${x.vehicleId}|${monthOf(x.day)}`)),
      ].map((key) => {
        const [vehicleId, month] = key.split('|') as [string, string];
        return { vehicleId, month };
      });
      const [months, days] = await Promise.all([
        wholeMonths.length === 0
          ? Promise.resolve([])
          : database.query(
              `SELECT vehicle_id, ${MONTH_AGGREGATES} FROM vehicle_month_rollups
                WHERE vehicle_id = ANY($1::uuid[]) AND month = ANY($2::date[])
                  AND NOT EXISTS (SELECT 1 FROM unnest($3::uuid[], $4::date[]) AS x(v, m) WHERE x.v = vehicle_id AND x.m = month)
                GROUP BY vehicle_id`,
              [vehicleIds, wholeMonths, skipMonths.map((x) => x.vehicleId), skipMonths.map((x) => x.month)],
            ),
        database.query(
          `WITH r AS (
             SELECT *, (distance_km > 0 OR engine_s > 0) AS active FROM vehicle_day_rollups d
              WHERE vehicle_id = ANY($1::uuid[])
                AND (day BETWEEN $2 AND $3 OR day BETWEEN $4 AND $5
                     OR (day BETWEEN $2 AND $5
                         AND EXISTS (SELECT 1 FROM unnest($8::uuid[], $9::date[]) AS x(v, m) WHERE x.v = d.vehicle_id AND x.m = date_trunc('month', d.day)::date)))
                AND NOT EXISTS (SELECT 1 FROM unnest($6::uuid[], $7::date[]) AS x(v, d) WHERE x.v = vehicle_id AND x.d = day))
           SELECT vehicle_id, ${DAY_AGGREGATES} FROM r GROUP BY vehicle_id`,
          [
            vehicleIds,
            firstDay,
            // The days before the first whole month, and after the last one (all of them without whole months).
            wholeMonths.length > 0 ? addDays(wholeMonths[0]!, -1) : lastDay,
            wholeMonths.length > 0 ? nextMonth(wholeMonths[wholeMonths.length - 1]!) : lastDay,
            lastDay,
            skip.map((x) => x.vehicleId),
            skip.map((x) => x.day),
            skipMonths.map((x) => x.vehicleId),
            skipMonths.map((x) => x.month),
          ],
        ),
      ]);
      for (const r of [...months, ...days]) {
        const sums = toSums(r);
        const seen = out.get(sums.vehicleId);
        out.set(sums.vehicleId, seen ? addSums(seen, sums) : sums);
      }
      return out;
    },
  };
}
export type AnalyticsRepository = ReturnType<typeof analyticsRepository>;
