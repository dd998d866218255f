/**
 * Analytics benchmark (issue 5), on a fresh PostgreSQL database:
 *
 *  1. One vehicle, a month of 10-second readings (30 days, 259,200 rows, made with SQL
 *     generate_series: office-hours drives, parked nights, a noisy tank sensor, a refuel
 *     every third morning). The rollup job computes its days; then trips, stops and fuel
 *     for the whole month are asked of the service the API calls (not over HTTP), from
 *     the rollups — and, for comparison, recomputed from the readings with a per-request
 *     threshold.
 *  2. The fleet fuel report for 1,000 vehicles over 12 months, from daily rollups written
 *     directly (365 rows per vehicle; the month rows rebuilt from them), and for one day
 *     for comparison.
 */
import { pino } from 'pino';
import { startRollupJob } from '../src/analytics/rollup-job.js';
import type { Analytics } from '../src/analytics/service.js';
import { addDays, dayRangeMs, localDayOf } from '../src/domain/report-time.js';
import { createRepositories } from '../src/repositories/index.js';
import { createServices } from '../src/services.js';
import { ALL_DEPARTMENTS } from '../src/repositories/scope.js';
import type { BenchContext } from './ingest.js';
import { createBenchDatabase } from './postgres.js';
import { formatInt, type BenchSection } from './report.js';
import { seedAnalyticsState, seedDayRollups, seedFleet } from './seed.js';
import { timeMedian } from './stats.js';

const TZ = 'Asia/Makassar';
const MONTH_DAYS = 30;
const FLEET = 1000;
const YEAR_DAYS = 365;
const TARGET_VEHICLE_MONTH_MS = 150;
const TARGET_FLEET_YEAR_MS = 300;

const ms = (x: number) => `${x.toFixed(0)} ms`;

export async function runAnalyticsBench(ctx: BenchContext): Promise<BenchSection> {
  const title = 'Analytics: trips and fuel for a vehicle-month, the fleet fuel report for a year';
  const logger = pino({ level: 'silent' });
  const bench = await createBenchDatabase(ctx.adminUrl, logger);
  try {
    const { database } = bench;
    const deviceIds = await seedFleet(database, FLEET);
    const repos = createRepositories(database);
    const analytics: Analytics = createServices(repos).analytics;
    const vehicles = await repos.vehicles.list(ALL_DEPARTMENTS);
    const [{ vehicle_id: firstVehicleId }] = (await database.query<{ vehicle_id: string }>('SELECT vehicle_id FROM devices WHERE id = $1', [
      deviceIds[0],
    ])) as [{ vehicle_id: string }];
    const vehicle = vehicles.find((v) => v.id === firstVehicleId)!;

    // 1. A month of 10-second readings, ending two days ago (finished, final days).
    const today = localDayOf(TZ, Date.now());
    const firstDay = addDays(today, -(MONTH_DAYS + 2));
    const monthFrom = dayRangeMs(TZ, firstDay).startMs;
    const monthTo = dayRangeMs(TZ, addDays(firstDay, MONTH_DAYS)).startMs;
    for (let m = monthFrom; m < monthTo + 32 * 86_400_000; m += 15 * 86_400_000)
      await database.query('SELECT armada_ensure_telemetry_partition($1)', [new Date(m).toISOString()]);
    const insertStarted = performance.now();
    // g: reading number; s: seconds since local midnight; cycles of 40 minutes from 07:00 to
    // 17:00 (15 minutes driving at 35 km/h, back and forth, then 25 parked, the first
    // minute idling); 0.9 L a drive; refilled to 60 L at 06:50 every third day.
    await database.query(
      `INSERT INTO telemetry (vehicle_id, device_id, fix_at, received_at, lat, lon, speed_kmh, ignition, odometer_km, hdop, satellites, fuel_litres)
       SELECT $1::uuid, $2, to_timestamp($3::float8 / 1000 + g * 10), to_timestamp($3::float8 / 1000 + g * 10),
              -10.17 + (random() - 0.5) * 0.00004,
              123.55 + CASE WHEN driving THEN (CASE WHEN cycle % 2 = 0 THEN x ELSE 1 - x END) ELSE (CASE WHEN cycle % 2 = 0 THEN 1 ELSE 0 END) END * 0.08
                     + (random() - 0.5) * 0.00004,
              CASE WHEN driving THEN 35 + (random() - 0.5) * 4 ELSE 0 END,
              driving OR idling,
              (day * 15 + least(cycle, 15) + CASE WHEN driving THEN x ELSE 0 END) * 8.76,
              1.0, 9,
              greatest(0, 60 - 0.9 * ((day % 3) * 15 + least(cycle, 15) + CASE WHEN driving THEN x ELSE 0 END) + (random() - 0.5) * 0.8)
         FROM (SELECT g, g / 8640 AS day, (g % 8640) * 10 AS s FROM generate_series(0, $4::int - 1) AS g) AS base,
              LATERAL (SELECT CASE WHEN s >= 25200 AND s < 61200 THEN (s - 25200) / 2400 ELSE CASE WHEN s >= 61200 THEN 15 ELSE 0 END END AS cycle,
                              s >= 25200 AND s < 61200 AND (s - 25200) % 2400 < 900 AS driving,
                              s >= 25200 AND s < 61200 AND (s - 25200) % 2400 >= 900 AND (s - 25200) % 2400 < 960 AS idling,
                              ((s - 25200) % 2400) / 900.0 AS x) AS c`,
      [vehicle.id, deviceIds[0], monthFrom, MONTH_DAYS * 8640],
    );
    const insertMs = performance.now() - insertStarted;
    await database.query('UPDATE devices SET last_seen_at = now() WHERE id = $1', [deviceIds[0]]);
    await database.query('ANALYZE');

    const job = startRollupJob({ analytics, analyticsRepo: repos.analytics, vehicles: repos.vehicles, logger }, { autoStart: false });
    const rollupStarted = performance.now();
    const run = await job.runOnce();
    const rollupMs = performance.now() - rollupStarted;
    await job.stop();

    const period = await analytics.vehiclePeriod(vehicle, monthFrom, monthTo);
    const stored = await timeMedian(15, () => analytics.vehiclePeriod(vehicle, monthFrom, monthTo));
    const recomputed = await timeMedian(3, () => analytics.vehiclePeriod(vehicle, monthFrom, monthTo, { minStopDurationS: 91 }));
    const check = await analytics.vehiclePeriod(vehicle, monthFrom, monthTo, { minStopDurationS: 91 });

    // 2. A year of daily rollups for the rest of the fleet, written directly.
    const yearFirst = addDays(today, -YEAR_DAYS);
    const yearFrom = dayRangeMs(TZ, yearFirst).startMs;
    const yearTo = dayRangeMs(TZ, today).startMs;
    const seedStarted = performance.now();
    await seedDayRollups(database, {
      firstDay: yearFirst,
      lastDay: addDays(today, -1),
      kmMin: 20,
      kmSpan: 60,
      outsideHoursShare: 0.05,
      ratedLitresPerKm: 0.115,
      refuelChance: 0.2,
      startLevel: { min: 50, span: 0 },
      endLevel: { min: 45, span: 0 },
      computedAt: null,
      exceptVehicleId: vehicle.id,
    });
    await seedAnalyticsState(database, null);
    await repos.analytics.rebuildMonthRollups();
    await database.query('ANALYZE vehicle_day_rollups');
    await database.query('ANALYZE vehicle_month_rollups');
    const seedMs = performance.now() - seedStarted;
    const [{ n: rollupRows }] = (await database.query<{ n: number }>('SELECT count(*)::int AS n FROM vehicle_day_rollups')) as [
      { n: number },
    ];

    const nowMs = Date.now();
    const report = await analytics.fleetFuel(vehicles, yearFrom, yearTo, nowMs);
    const fleetYear = await timeMedian(7, () => analytics.fleetFuel(vehicles, yearFrom, yearTo, nowMs));
    const dayFrom = dayRangeMs(TZ, addDays(today, -1)).startMs;
    const fleetDay = await timeMedian(7, () => analytics.fleetFuel(vehicles, dayFrom, yearTo, nowMs));
    const fleetKm = report.reduce((s, r) => s + r.distanceKm, 0);

    const tripsOk = period.trips.length === check.trips.length && period.storedDays === MONTH_DAYS;
    return {
      id: 'analytics',
      title,
      status: 'ok',
      settings: [
        `One vehicle, ${MONTH_DAYS} days of 10-second readings (${formatInt(MONTH_DAYS * 8640)} rows, SQL generate_series), written in ${ms(insertMs)}`,
        `Fleet report: ${formatInt(FLEET)} vehicles, ${formatInt(rollupRows)} daily rollup rows (${YEAR_DAYS} days each, written directly in ${ms(seedMs)})`,
        'Service functions the API calls (analytics.vehiclePeriod, analytics.fleetFuel), timed in process against PostgreSQL; medians of repeated runs',
      ],
      rows: [
        {
          measure: 'Trips + stops + fuel, one vehicle, one month (from the rollups)',
          value: ms(stored.medianMs),
          target: `< ${TARGET_VEHICLE_MONTH_MS} ms`,
          verdict: stored.medianMs < TARGET_VEHICLE_MONTH_MS ? 'PASS' : 'BELOW',
        },
        { measure: 'The same, recomputed from the 259,200 readings (per-request threshold)', value: ms(recomputed.medianMs) },
        {
          measure: 'Fleet fuel report, 1,000 vehicles, 12 months',
          value: ms(fleetYear.medianMs),
          target: `< ${TARGET_FLEET_YEAR_MS} ms`,
          verdict: fleetYear.medianMs < TARGET_FLEET_YEAR_MS ? 'PASS' : 'BELOW',
        },
        { measure: 'Fleet fuel report, 1,000 vehicles, 1 day', value: ms(fleetDay.medianMs) },
        {
          measure: 'Rollup job, first run over the month (one vehicle)',
          value: `${ms(rollupMs)} for ${run.days} days (${ms(rollupMs / Math.max(1, run.days))} a day)`,
        },
        {
          measure: 'Month: trips / stops / refuels / litres / km',
          value: `${period.trips.length} / ${period.stops.length} / ${period.fuel.refuels.length} / ${period.fuel.fuelUsedLitres.toFixed(1)} / ${period.fuel.distanceKm.toFixed(1)}`,
        },
        {
          measure: 'Month from rollups agrees with recomputation (trip count; days from rollups)',
          value: `${period.trips.length} = ${check.trips.length}; ${period.storedDays} of ${MONTH_DAYS}`,
          verdict: tripsOk ? 'OK' : 'FAIL',
        },
        {
          measure: 'Fleet report rows / total km',
          value: `${formatInt(report.length)} / ${formatInt(fleetKm)}`,
          verdict: report.length === FLEET ? 'OK' : 'FAIL',
        },
      ],
      notes: [
        'The month is read from the stored daily rollups, trips, stops and fuel events (the rollup job keeps them current); days the rollups cannot answer — partial days at the edges, today, days with late readings waiting — are computed from the readings.',
        'The fleet report sums month rollups for whole calendar months and day rollups for the rest (two SQL aggregates); partial days at the edges are computed from the readings of all vehicles at once.',
      ],
    };
  } finally {
    await bench.drop();
  }
}
