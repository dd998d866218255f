/**
 * How long the rollup job holds the event loop on the embedded default (PGlite runs in
 * the process): `npx tsx bench/rollup-stall.ts [--vehicles 2000] [--readings 60]
 * [--job path/to/rollup-job.ts]`.
 *
 * Registers the vehicles on PGlite in a temporary directory, stores each one `--readings`
 * readings of today (a minute apart, as after a restart: every vehicle heard from since
 * its last computation), then runs the job once (runOnce) while a 10 ms timer ticks, as
 * ingest's batch timer and sockets would, and reports the longest the timer waited, how
 * many of the expected ticks came, and the run's CPU time. `--job` runs another version of
 * src/analytics/rollup-job.ts against the same data (another checkout's file), so a
 * before and after come from one process and one data set.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type * as RollupJobModule from '../src/analytics/rollup-job.js';
import { openDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import type { BoundReading } from '../src/domain/ingest-types.js';
import { createRepositories } from '../src/repositories/index.js';
import { telemetryWriter } from '../src/repositories/telemetry.js';
import { createServices } from '../src/services.js';

const { values } = parseArgs({
  options: {
    vehicles: { type: 'string', default: '2000' },
    readings: { type: 'string', default: '60' },
    /** Rollup job modules to compare, comma-separated (default: this checkout's). */
    job: { type: 'string' },
  },
});
const vehicleCount = Number(values.vehicles);
const readingsPerVehicle = Number(values.readings);
const jobs = (values.job ?? 'src/analytics/rollup-job.ts').split(',').map((p) => resolve(p));

const dataDir = mkdtempSync(join(tmpdir(), 'armada-bench-rollup-'));
const database = await openDatabase({ kind: 'pglite', dataDir, logger: pino({ level: 'warn' }) });
try {
  await migrateDatabase(database);
  const repos = createRepositories(database);
  const domain = createServices(repos);
  const writer = telemetryWriter(database, { reportTz: domain.analytics.settings.reportTz });
  const dep = await repos.departments.create({ code: 'BENCH', name: 'Bench' });
  const nowMs = Date.now();
  process.stderr.write(`registering ${vehicleCount} vehicles with ${readingsPerVehicle} readings each…\n`);
  let batch: BoundReading[] = [];
  for (let i = 0; i < vehicleCount; i++) {
    const v = await repos.vehicles.create({
      plateNumber: `DH ${i} RS`,
      departmentId: dep.id,
      kind: 'car',
      fuelType: 'pertalite',
      tankCapacityLitres: 50,
      ratedLitresPer100Km: 9,
      idleLitresPerHour: 0.8,
      monthlyAllocationLitres: 200,
    });
    await repos.devices.create({ id: `rs-${i}`, vehicleId: v.id, protocol: 'armada', secretHash: 'x' });
    for (let k = 0; k < readingsPerVehicle; k++) {
      const fixAtMs = nowMs - (readingsPerVehicle - k) * 60_000;
      batch.push({
        fixAtMs,
        lat: -10.17 + k * 0.001,
        lon: 123.6,
        speedKmh: 30,
        headingDeg: 0,
        altitudeM: null,
        satellites: 8,
        hdop: 1,
        ignition: true,
        odometerKm: null,
        fuelLitres: 40 - k * 0.05,
        fuelPercent: null,
        fuelUsedLitres: null,
        batteryV: 12.6,
        seq: null,
        attributes: null,
        deviceId: `rs-${i}`,
        vehicleId: v.id,
        departmentId: dep.id,
        receivedAtMs: fixAtMs,
      });
    }
    if (batch.length >= 5000) {
      await writer.writeBatch(batch, []);
      batch = [];
    }
  }
  await writer.writeBatch(batch, []);
  // The devices' last-seen times (the job's work list) are written behind the readings.
  await repos.ingestState.recover(0, []);

  const results = [];
  for (const path of jobs) {
    const { startRollupJob } = (await import(pathToFileURL(path).href)) as typeof RollupJobModule;
    // Every vehicle as the job finds it after a restart: heard from, not computed since.
    await database.query('DELETE FROM analytics_vehicle_state');
    const job = startRollupJob(
      { analytics: domain.analytics, analyticsRepo: repos.analytics, vehicles: repos.vehicles, logger: pino({ level: 'silent' }) },
      { autoStart: false },
    );
    // The loop's delay histogram only samples when the loop turns; a held loop shows as the gap between ticks.
    const lag = monitorEventLoopDelay({ resolution: 10 });
    let ticks = 0;
    let lastTickMs = performance.now();
    let longestGapMs = 0;
    const ticker = setInterval(() => {
      const t = performance.now();
      longestGapMs = Math.max(longestGapMs, t - lastTickMs);
      lastTickMs = t;
      ticks++;
    }, 10);
    lag.enable();
    const cpu = process.cpuUsage();
    const started = performance.now();
    lastTickMs = started;
    const summary = await job.runOnce();
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    longestGapMs = Math.max(longestGapMs, performance.now() - lastTickMs);
    lag.disable();
    clearInterval(ticker);
    await job.stop();
    const result = {
      job: path,
      vehicles: summary.vehicles,
      days: summary.days,
      failed: summary.failed,
      wallMs: Math.round(wallMs),
      cpuMs: Math.round((used.user + used.system) / 1000),
      /** The longest the 10 ms timer waited for its turn. */
      longestStallMs: Math.round(longestGapMs),
      p99LoopDelayMs: Math.round(lag.percentile(99) / 1e6),
      /** 10 ms ticks that came, of those the run's wall time allowed. */
      ticksShare: Number((ticks / Math.max(1, wallMs / 10)).toFixed(3)),
    };
    process.stderr.write(`${JSON.stringify(result)}\n`);
    results.push(result);
  }
  console.log(JSON.stringify({ vehicles: vehicleCount, readingsPerVehicle, results }, null, 2));
} finally {
  await database.close();
  rmSync(dataDir, { recursive: true, force: true });
}
