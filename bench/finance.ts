/**
 * Finance benchmark (issue 11), on a fresh PostgreSQL database with a synthetic fixture
 * written in SQL (the ledger's API and the rollup job are not what is measured):
 * 1,000 vehicles, a year (2025) of daily rollups with tank levels, four purchases a
 * vehicle a month in the ledger, and for one month (June) a detected refuel next to each
 * purchase and a few readings around it.
 *
 *  1. Savings, 1,000 vehicles × 1 month and × 12 months: the service functions the API
 *     calls (savings.month; savings.monthRows + the year's sums).
 *  2. Reconciliation of the 1,000-vehicle month: reconciliation.monthReport (matching,
 *     every flag, the readings near each purchase).
 */
import { pino } from 'pino';
import { NTT_FUEL_PRICES } from '../simulator/fuel-prices.js';
import { yearRows } from '../src/finance/savings.js';
import { createRepositories } from '../src/repositories/index.js';
import { ALL_DEPARTMENTS } from '../src/repositories/scope.js';
import { createServices } from '../src/services.js';
import type { BenchContext } from './ingest.js';
import { createBenchDatabase } from './postgres.js';
import { formatInt, type BenchSection } from './report.js';
import { seedAnalyticsState, seedDayRollups, seedFleet } from './seed.js';
import { timeMedian } from './stats.js';

const FLEET = 1000;
const YEAR = 2025;
const MONTH = '2025-06';
const PURCHASES_PER_MONTH = 4;
/** The reports are asked for in January 2026: every day of 2025 is final. */
const NOW_MS = Date.parse('2026-01-15T04:00:00Z');
const TARGET_MONTH_MS = 150;
const TARGET_YEAR_MS = 300;
const TARGET_RECON_MS = 2000;

const ms = (x: number) => `${x.toFixed(0)} ms`;

export async function runFinanceBench(ctx: BenchContext): Promise<BenchSection> {
  const title = 'Finance: savings for a fleet month and year, reconciliation of a fleet month';
  const logger = pino({ level: 'silent' });
  const bench = await createBenchDatabase(ctx.adminUrl, logger);
  try {
    const { database } = bench;
    await seedFleet(database, FLEET);
    const repos = createRepositories(database);
    const services = createServices(repos);
    const fleet = await repos.vehicles.list(ALL_DEPARTMENTS);
    const names = new Map((await repos.departments.list(ALL_DEPARTMENTS)).map((d) => [d.id, d.name]));
    const seedStarted = performance.now();
    for (const p of NTT_FUEL_PRICES) {
      await database.query('INSERT INTO fuel_prices (fuel_type, price_idr_per_litre, valid_from, source) VALUES ($1, $2, $3, $4)', [
        p.fuelType,
        p.priceIdrPerLitre,
        p.validFrom,
        p.source,
      ]);
    }
    await database.query(
      `INSERT INTO vehicle_allocations (vehicle_id, litres, from_month) SELECT id, 400, '2025-01-01' FROM vehicles ON CONFLICT DO NOTHING`,
    );
    await database.query(`INSERT INTO department_budgets (department_id, year, amount_idr) SELECT id, $1, 2000000000 FROM departments`, [
      YEAR,
    ]);
    // A year of days: 25 to 45 km, sensor-measured, the tank between 30 and 60 L.
    await seedDayRollups(database, {
      firstDay: '2025-01-01',
      lastDay: '2025-12-31',
      kmMin: 25,
      kmSpan: 20,
      outsideHoursShare: 0,
      ratedLitresPerKm: 0.12,
      refuelChance: 0,
      startLevel: { min: 30, span: 30 },
      endLevel: { min: 30, span: 30 },
      computedAt: '2026-01-10T00:00:00Z',
    });
    await repos.analytics.rebuildMonthRollups();
    await seedAnalyticsState(database, '2026-01-10T00:00:00Z');
    // The ledger: four purchases a vehicle a month, on the 3rd, 10th, 17th and 24th at 09:00 WITA (01:00 UTC), 40 L of solar.
    await database.query(
      `INSERT INTO fuel_purchases (seq, kind, vehicle_id, department_id, at, litres, amount_idr, fuel_type, lat, lon, receipt_no,
        prev_hash, hash)
       SELECT row_number() OVER (), 'purchase', v.id, v.department_id, make_timestamptz(2025, m, 3 + 7 * k, 1, 0, 0, 'UTC'), 40,
         272000, 'solar',
              -10.17, 123.6, 'B-' || v.plate_number || '-' || m || '-' || k, 'bench', 'bench'
         FROM vehicles v CROSS JOIN generate_series(1, 12) AS m CROSS JOIN generate_series(0, $1::int - 1) AS k`,
      [PURCHASES_PER_MONTH],
    );
    // June: a refuel next to each purchase (the pump stopped 5 minutes before the receipt) and readings around it.
    await database.query(
      `INSERT INTO vehicle_fuel_events (vehicle_id, day, seq, kind, at, end_at, lat, lon, litres, level_before_litres,
        level_after_litres, moving)
       SELECT p.vehicle_id, (p.at AT TIME ZONE 'Asia/Makassar')::date, 0, 'refuel', p.at - interval '9 minutes', p.at - interval
         '5 minutes',
              -10.17, 123.6, 39.5, 20, 59.5, false
         FROM fuel_purchases p WHERE p.at >= '2025-05-31T16:00:00Z' AND p.at < '2025-06-30T16:00:00Z'`,
    );
    await database.query(`SELECT armada_ensure_telemetry_partition('2025-06-15T00:00:00Z')`);
    await database.query(
      `INSERT INTO telemetry (vehicle_id, device_id, fix_at, received_at, lat, lon, speed_kmh, ignition, odometer_km)
       SELECT p.vehicle_id, d.id, p.at + g * interval '1 minute', p.at + g * interval '1 minute', -10.17 + g * 0.00001, 123.6, 0,
         false, 1000
         FROM fuel_purchases p JOIN LATERAL (SELECT id FROM devices WHERE vehicle_id = p.vehicle_id LIMIT 1) d ON true
         CROSS JOIN generate_series(-5, 5) AS g
        WHERE p.at >= '2025-05-31T16:00:00Z' AND p.at < '2025-06-30T16:00:00Z'`,
    );
    await database.query('ANALYZE');
    const seedMs = performance.now() - seedStarted;
    const [{ n: purchaseRows }] = (await database.query<{ n: number }>('SELECT count(*)::int AS n FROM fuel_purchases')) as [{ n: number }];

    const month = await services.savings.month(fleet, MONTH, names, NOW_MS);
    const monthMs = (await timeMedian(7, () => services.savings.month(fleet, MONTH, names, NOW_MS))).medianMs;
    const year = async () => {
      const months = services.savings.monthsOfYear(YEAR);
      const rows = await services.savings.monthRows(fleet, months, names, NOW_MS);
      const all = yearRows(months.map((m) => rows.get(m)!));
      return {
        rows: all,
        summary: await services.savings.summarise(
          all,
          YEAR,
          names,
          fleet.map((v) => v.id),
          Date.parse('2026-01-01T00:00:00+08:00'),
        ),
      };
    };
    const y = await year();
    const yearMs = (await timeMedian(5, year)).medianMs;
    const recon = await services.reconciliation.monthReport(fleet, MONTH, NOW_MS);
    const reconMs = (await timeMedian(3, () => services.reconciliation.monthReport(fleet, MONTH, NOW_MS))).medianMs;
    const matched = recon.purchases.filter((p) => p.status === 'matched').length;

    return {
      id: 'finance',
      title,
      status: 'ok',
      settings: [
        `${formatInt(FLEET)} vehicles; ${formatInt(FLEET * 365)} daily rollups (${YEAR}), ${formatInt(purchaseRows)} purchases, a ` +
          `refuel and 11 readings around each of June's; written in SQL in ${ms(seedMs)}`,
        'Service functions the API calls (savings.month, savings.monthRows with the year sums, reconciliation.monthReport), timed ' +
          'in process against PostgreSQL; medians of repeated runs',
      ],
      rows: [
        {
          measure: 'Savings, 1,000 vehicles × 1 month',
          value: ms(monthMs),
          target: `< ${TARGET_MONTH_MS} ms`,
          verdict: monthMs < TARGET_MONTH_MS ? 'PASS' : 'BELOW',
        },
        {
          measure: 'Savings, 1,000 vehicles × 12 months',
          value: ms(yearMs),
          target: `< ${TARGET_YEAR_MS} ms`,
          verdict: yearMs < TARGET_YEAR_MS ? 'PASS' : 'BELOW',
        },
        {
          measure: 'Reconciliation, 1,000-vehicle month',
          value: `${ms(reconMs)} for ${formatInt(recon.purchases.length)} purchases`,
          target: `< ${TARGET_RECON_MS} ms`,
          verdict: reconMs < TARGET_RECON_MS ? 'PASS' : 'BELOW',
        },
        {
          measure: 'Month rows / year rows',
          value: `${formatInt(month.vehicles.length)} / ${formatInt(y.rows.length)}`,
          verdict: month.vehicles.length === FLEET && y.rows.length === FLEET ? 'OK' : 'FAIL',
        },
        {
          measure: 'June purchases matched to their refuel',
          value: `${formatInt(matched)} of ${formatInt(recon.purchases.length)}`,
          verdict: matched === recon.purchases.length && matched === FLEET * PURCHASES_PER_MONTH ? 'OK' : 'FAIL',
        },
      ],
      notes: [
        'Savings read the month rollups (one row per vehicle-month), the allocations, the prices and the ledger; reconciliation ' +
          'reads the month’s refuels, levels and, per purchase, two readings near it.',
      ],
    };
  } finally {
    await bench.drop();
  }
}
