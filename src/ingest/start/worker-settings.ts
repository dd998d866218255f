/** The ingest worker as the configuration sets it up: pipeline, writer, batches, quarantine cap. */
import { telemetryWriter } from '../../repositories/telemetry.js';
import { cachedDeviceLookup } from '../device-cache.js';
import { createPipeline, type Pipeline, type PipelineSettings, type RawMessage } from '../pipeline.js';
import { createQuarantineCap } from '../quarantine-limits.js';
import { stateBehind } from '../state-behind.js';
import type { IngestDeps } from './deps.js';

/** How long the worker trusts the retention horizon it read before reading it again. */
export const RETENTION_HORIZON_REFRESH_MS = 60_000;

/**
 * The pipeline with the retention horizon (src/ops/retention.ts) kept current in its
 * settings: read before the first batch, again before a batch once it is a minute old,
 * and after any failed batch (a drop the worker had not yet seen makes the database
 * refuse the reading's partition; read again, the horizon quarantines it instead).
 * A failed read fails the batch, which is redelivered.
 */
function withRetentionHorizon(pipeline: Pipeline, settings: PipelineSettings, load: () => Promise<number | undefined>): Pipeline {
  let loadedAt: number | undefined;
  return Object.assign(
    async (messages: readonly RawMessage[]) => {
      if (loadedAt === undefined || performance.now() - loadedAt > RETENTION_HORIZON_REFRESH_MS) {
        settings.keptFromMs = await load();
        loadedAt = performance.now();
      }
      return pipeline(messages);
    },
    {
      forget(): void {
        pipeline.forget?.();
        loadedAt = undefined;
      },
    },
  );
}

export function workerSettings(deps: IngestDeps) {
  const { config, database, repos, logger, metrics } = deps;
  const settings: PipelineSettings = {
    maxFutureS: config.maxFutureS,
    maxAgeDays: config.maxAgeDays,
    maxImpliedSpeedKmh: config.maxImpliedSpeedKmh,
  };
  const newestFixes = async () =>
    (await repos.positions.newestFixes()).map((f) => [f.vehicleId, { fixAtMs: f.fixAtMs, lat: f.lat, lon: f.lon }] as const);
  return {
    pipeline: withRetentionHorizon(
      createPipeline({
        lookupDevice: cachedDeviceLookup((id) => repos.devices.findIdentity(id), { loadAll: () => repos.devices.allIdentities() }),
        settings,
        loadNewestFixes: newestFixes,
      }),
      settings,
      () => repos.retention.keptFromMs(),
    ),
    // Start it (recovering what a stopped worker left) before the first batch; flush it on idle and stop.
    writer: stateBehind(telemetryWriter(database, { reportTz: config.reportTz }), {
      repo: repos.ingestState,
      loadNewest: async () => (await newestFixes()).map(([vehicleId, fix]) => [vehicleId, fix.fixAtMs] as const),
      logger,
      onSeqMissing: (n) => metrics.seqGaps.inc(n),
      onUnwritten: (batches) => metrics.stateUnwritten.set(batches),
      flushMs: config.ingestStateFlushMs,
    }),
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
