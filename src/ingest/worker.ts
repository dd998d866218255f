/**
 * The ingest worker: messages from the broker session are gathered into batches, run
 * through the pipeline, committed in one transaction, and only then acknowledged.
 * Batches are processed one at a time, in arrival order, so each vehicle's readings
 * reach the database in the order the broker delivered them.
 *
 * If a commit fails, nothing of the batch is acknowledged: the worker drops what it
 * holds and reconnects, and the broker delivers every unacknowledged message again.
 * The primary key (vehicle, fix time) makes those redeliveries harmless.
 */
import type { Logger } from 'pino';
import { liveTopic } from '../domain/topics.js';
import type { LivePosition } from '../domain/live.js';
import type { BatchOutcome, LatestAdvance, TelemetryWriter } from '../repositories/telemetry.js';
import type { BrokerSession, SessionMessage } from './broker-session.js';
import type { Pipeline } from './pipeline.js';

export interface IngestCounters {
  received: number;
  stored: number;
  duplicates: number;
  quarantined: number;
  batches: number;
  failedBatches: number;
}

export interface IngestWorkerOptions {
  session: Pick<BrokerSession, 'acknowledge' | 'publish' | 'pause' | 'resume' | 'reconnect'>;
  pipeline: Pipeline;
  writer: Pick<TelemetryWriter, 'writeBatch'>;
  logger: Logger;
  batchSize: number;
  batchWaitMs: number;
  /** Above this many waiting messages the worker stops reading from the broker. */
  maxPending?: number;
}

export function toLivePosition(advance: LatestAdvance): LivePosition {
  const r = advance.reading;
  return {
    vehicleId: advance.vehicleId,
    departmentId: advance.departmentId,
    deviceId: r.deviceId,
    at: new Date(r.fixAtMs).toISOString(),
    lat: r.lat,
    lon: r.lon,
    speedKmh: r.speedKmh,
    headingDeg: r.headingDeg,
    fuelLitres: r.fuelLitres,
    fuelPercent: r.fuelPercent,
    ignition: r.ignition,
    batteryV: r.batteryV,
  };
}

export function createIngestWorker(options: IngestWorkerOptions) {
  const { session, pipeline, writer, logger, batchSize, batchWaitMs } = options;
  const maxPending = options.maxPending ?? batchSize * 20;
  const counters: IngestCounters = { received: 0, stored: 0, duplicates: 0, quarantined: 0, batches: 0, failedBatches: 0 };
  let pending: SessionMessage[] = [];
  let flushing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let paused = false;
  let stopped = false;
  const idleWaiters: Array<() => void> = [];

  function startFlush(): void {
    flushing = flushOnce().finally(() => {
      flushing = null;
      if (pending.length > 0) schedule();
      else idleWaiters.splice(0).forEach((wake) => wake());
    });
  }

  /** A full batch goes at once; a partial one waits up to batchWaitMs for company. */
  function schedule(): void {
    if (flushing) return;
    if (pending.length >= batchSize) {
      clearTimeout(timer);
      timer = undefined;
      startFlush();
    } else if (pending.length > 0 && !timer) {
      timer = setTimeout(() => {
        timer = undefined;
        if (!flushing) startFlush();
      }, batchWaitMs);
    }
  }

  async function flushOnce(): Promise<void> {
    const batch = pending.slice(0, batchSize);
    pending = pending.slice(batch.length);
    if (paused && pending.length < maxPending / 2) {
      paused = false;
      session.resume();
    }
    let outcome: BatchOutcome;
    try {
      const processed = await pipeline(batch);
      outcome = await writer.writeBatch(processed.readings, processed.rejected);
    } catch (err) {
      counters.failedBatches++;
      logger.error({ err: (err as Error).message, messages: batch.length }, 'ingest batch failed; nothing acknowledged, reconnecting for redelivery');
      // Everything held belongs to the broken delivery stream: the broker resends it all.
      pending = [];
      session.reconnect('commit failed');
      await new Promise((r) => setTimeout(r, 500));
      return;
    }
    session.acknowledge(batch);
    counters.batches++;
    counters.stored += outcome.stored;
    counters.duplicates += outcome.duplicates;
    counters.quarantined += outcome.quarantined;
    for (const advance of outcome.advanced) {
      session.publish(liveTopic(advance.departmentId, advance.vehicleId), JSON.stringify(toLivePosition(advance)));
    }
    if (outcome.quarantined > 0) logger.debug({ quarantined: outcome.quarantined }, 'messages quarantined');
  }

  return {
    counters,
    /** The session's onMessage. */
    onMessage(message: SessionMessage): void {
      if (stopped) return;
      counters.received++;
      pending.push(message);
      if (!paused && pending.length >= maxPending) {
        paused = true;
        session.pause();
      }
      schedule();
    },
    /** Messages of a dropped connection will be redelivered; holding them would store them twice for nothing. */
    onDisconnected(): void {
      pending = [];
      if (paused) {
        paused = false;
        session.resume();
      }
    },
    /** Resolves when everything received so far has been committed (or has failed). */
    idle(): Promise<void> {
      if (!flushing && pending.length === 0) return Promise.resolve();
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        schedule();
      });
    },
    /** Stops taking messages, then commits and acknowledges what it already holds. */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      if (flushing) await flushing;
      while (pending.length > 0) {
        flushing = flushOnce();
        await flushing;
        flushing = null;
      }
    },
  };
}
export type IngestWorker = ReturnType<typeof createIngestWorker>;
