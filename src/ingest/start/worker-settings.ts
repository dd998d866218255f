/** The ingest worker as the configuration sets it up: pipeline, writer, batches, quarantine cap. */
import { telemetryWriter } from '../../repositories/telemetry.js';
import { cachedDeviceLookup } from '../device-cache.js';
import { createPipeline } from '../pipeline.js';
import { createQuarantineCap } from '../quarantine-limits.js';
import type { IngestDeps } from './deps.js';

export function workerSettings(deps: IngestDeps) {
  const { config, database, repos, logger, metrics } = deps;
  return {
    pipeline: createPipeline({
      lookupDevice: cachedDeviceLookup((id) => repos.devices.findIdentity(id), { loadAll: () => repos.devices.allIdentities() }),
      settings: { maxFutureS: config.maxFutureS, maxAgeDays: config.maxAgeDays, maxImpliedSpeedKmh: config.maxImpliedSpeedKmh },
      loadNewestFixes: async () =>
        (await repos.positions.newestFixes()).map((f) => [f.vehicleId, { fixAtMs: f.fixAtMs, lat: f.lat, lon: f.lon }] as const),
    }),
    writer: telemetryWriter(database, { reportTz: config.reportTz }),
    logger,
    metrics,
    batchSize: config.ingestBatchSize,
    batchWaitMs: config.ingestBatchWaitMs,
    poisonAttempts: config.ingestPoisonAttempts,
    quarantineCap: createQuarantineCap({ cap: config.quarantineDeviceCap, periodMs: config.quarantineCapPeriodMin * 60_000 }, metrics),
    databaseAnswers: () => database.ping(),
    // PGlite is one connection: a second concurrent batch would only queue behind the first.
    concurrency: database.kind === 'postgres' ? config.ingestConcurrency : 1,
  };
}
