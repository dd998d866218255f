/**
 * The ingest worker: messages are gathered into batches, run through the pipeline,
 * written in one statement, and only then acknowledged to whoever delivered them.
 *
 * Where messages come from is a source: the worker's own MQTT session with an external
 * broker (acknowledged with PUBACKs after commit), or the embedded broker, which holds
 * each device's PUBACK until the worker says its batch is committed. Either way a
 * message is acknowledged only once it is in PostgreSQL, and a failed commit
 * acknowledges nothing: the message is delivered again, and the primary key
 * (vehicle, fix time) makes the second delivery harmless.
 *
 * Up to `concurrency` batches commit at once (their fsyncs overlap). Order between
 * batches does not matter for correctness: a vehicle's latest state only ever moves
 * forward in fix time, whatever order its readings are committed in.
 */
import type { Logger } from 'pino';
import { pgErrorCode } from '../db/errors.js';
import type { BoundReading, QuarantineEntry } from '../domain/ingest-types.js';
import { livePositionJson } from '../domain/live.js';
import { deviceFromTopic, liveTopic } from '../domain/topics.js';
import type { IngestMetrics } from '../metrics.js';
import type { BatchOutcome } from '../repositories/telemetry.js';
import type { Pipeline, PipelineResult, RawMessage } from './pipeline.js';
import type { QuarantineCap } from './quarantine-limits.js';

/** Where messages come from, and how they are acknowledged or handed back. */
export interface IngestSource<M extends RawMessage> {
  /** The batch is committed: acknowledge every message of it. */
  committed(messages: readonly M[]): void;
  /** The batch could not be committed: none of it may be acknowledged; arrange redelivery. */
  failed(messages: readonly M[], err: Error): void;
  /** Stop delivering for now (the worker holds too much). */
  pause(): void;
  resume(): void;
}

/** Where committed newest positions are announced. */
export interface LivePublisher {
  publish(topic: string, payload: string): void;
}

export interface IngestCounters {
  received: number;
  stored: number;
  duplicates: number;
  quarantined: number;
  batches: number;
  failedBatches: number;
  /** Messages quarantined as `poison`: their write kept failing alone. */
  poisoned: number;
}

/**
 * SQLSTATE classes that blame the data, not the database: 21 cardinality violation,
 * 22 data exception (22P05: U+0000 in text), 23 integrity constraint violation, 54 program
 * limit exceeded (a value too large for an index or a row).
 */
const DATA_ERROR_CLASSES = new Set(['21', '22', '23', '54']);

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export interface IngestWorkerOptions<M extends RawMessage> {
  source: IngestSource<M>;
  live: LivePublisher;
  pipeline: Pipeline;
  /** Stores a batch in one transaction (./state-behind.ts over the telemetry writer). */
  writer: { writeBatch(readings: readonly BoundReading[], rejected: readonly QuarantineEntry[]): Promise<BatchOutcome> };
  logger: Logger;
  metrics?: IngestMetrics;
  batchSize: number;
  batchWaitMs: number;
  /** Batches committing at the same time. */
  concurrency?: number;
  /** Above this many waiting messages the source is paused. */
  maxPending?: number;
  /**
   * Told of every committed batch's readings (the alert engine listens here). The batch's
   * slot is free again only when this settles, so a slow listener slows intake instead
   * of piling readings up in memory.
   */
  onCommitted?: (readings: readonly BoundReading[]) => Promise<void> | void;
  /**
   * Whether the database answers at all (a trivial query). A failed write without a
   * SQLSTATE is then blamed on the data, and its batch written message by message.
   * Without it only PostgreSQL's data errors are.
   */
  databaseAnswers?: () => Promise<boolean>;
  /** A message whose write fails alone this many times is quarantined as `poison` (default 3). */
  poisonAttempts?: number;
  /** Bounds each device's rejects in the quarantine (./quarantine-limits.ts); none without it. */
  quarantineCap?: QuarantineCap;
}

export function createIngestWorker<M extends RawMessage>(options: IngestWorkerOptions<M>) {
  const { source, live, pipeline, writer, logger, metrics, batchSize, batchWaitMs } = options;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  // Twenty batches, at most 10,000 messages: bigger batches would otherwise hold more in memory.
  const maxPending = options.maxPending ?? Math.min(batchSize * 20, 10_000);
  const poisonAttempts = Math.max(1, options.poisonAttempts ?? 3);
  const counters: IngestCounters = { received: 0, stored: 0, duplicates: 0, quarantined: 0, batches: 0, failedBatches: 0, poisoned: 0 };
  let pending: M[] = [];
  let committing = 0;
  const running = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let paused = false;
  let stopped = false;
  const idleWaiters: Array<() => void> = [];
  let pipelineTail: Promise<void> = Promise.resolve();

  const inFlight = () => pending.length + committing;

  function updatePause(): void {
    if (!paused && pending.length >= maxPending) {
      paused = true;
      source.pause();
    } else if (paused && pending.length < maxPending / 2) {
      paused = false;
      source.resume();
    }
  }

  /**
   * A full batch goes at once; a partial one waits up to batchWaitMs for company. Once
   * that wait has expired, partial batches go whenever a slot is free, until nothing waits.
   */
  let waitExpired = false;
  function schedule(): void {
    while (running.size < concurrency && pending.length > 0 && (pending.length >= batchSize || waitExpired || stopped)) {
      startBatch();
    }
    if (pending.length === 0) waitExpired = false;
    else if (!waitExpired && timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        waitExpired = true;
        schedule();
      }, batchWaitMs);
    }
    if (pending.length === 0 && running.size === 0) idleWaiters.splice(0).forEach((wake) => wake());
  }

  function startBatch(): void {
    const batch = pending.slice(0, batchSize);
    pending = pending.slice(batch.length);
    committing += batch.length;
    updatePause();
    const run = commit(batch).finally(() => {
      committing -= batch.length;
      running.delete(run);
      metrics?.inFlight.set(inFlight());
      schedule();
    });
    running.add(run);
  }

  /**
   * The pipeline runs batch after batch, in the order they arrived (its jump filter
   * compares each fix with the vehicle's previous one); only the commits overlap.
   */
  function runPipeline(messages: readonly M[]): Promise<PipelineResult> {
    const processing = pipelineTail.then(() => pipeline(messages));
    pipelineTail = processing.then(
      () => undefined,
      () => undefined,
    );
    return processing;
  }

  /** Nothing of these messages is acknowledged: the source arranges their redelivery. */
  function fail(messages: readonly M[], err: unknown): void {
    counters.failedBatches++;
    metrics?.failedBatches.inc();
    logger.error({ err: (err as Error).message, messages: messages.length }, 'ingest batch failed; nothing of it acknowledged');
    source.failed(messages, err as Error);
  }

  /** Counts a committed write and announces the vehicles it advanced. */
  function account(outcome: BatchOutcome, rejected: readonly QuarantineEntry[]): void {
    for (const q of rejected) metrics?.quarantined.inc({ reason: q.reason });
    metrics?.stored.inc(outcome.stored);
    metrics?.duplicates.inc(outcome.duplicates);
    counters.stored += outcome.stored;
    counters.duplicates += outcome.duplicates;
    counters.quarantined += outcome.quarantined;
    for (const advance of outcome.advanced) {
      live.publish(liveTopic(advance.departmentId, advance.vehicleId), livePositionJson(advance));
    }
  }

  /**
   * Whether a failed write may be the data's fault rather than the database's: an error
   * PostgreSQL raises about the data, or one without a SQLSTATE (a driver or serializer
   * error, a dropped connection) while the database answers. Anything else (the server
   * gone, shutting down, out of disk, read-only, a deadlock) is an outage, and an outage
   * acknowledges nothing.
   */
  async function dataMayBeAtFault(err: unknown): Promise<boolean> {
    const code = pgErrorCode(err);
    if (code !== undefined) return DATA_ERROR_CLASSES.has(code.slice(0, 2));
    return (await options.databaseAnswers?.().catch(() => false)) ?? false;
  }

  async function commit(batch: M[]): Promise<void> {
    const started = performance.now();
    let outcome: BatchOutcome;
    let processed: PipelineResult;
    try {
      processed = await runPipeline(batch);
    } catch (err) {
      pipeline.forget?.();
      fail(batch, err);
      return;
    }
    // Capped here only: the one-by-one writes after a failure take their messages' rejects as they are.
    if (options.quarantineCap) processed = { readings: processed.readings, rejected: options.quarantineCap(processed.rejected) };
    try {
      outcome = await writer.writeBatch(processed.readings, processed.rejected);
    } catch (err) {
      // The pipeline's memory of newest fixes now holds some that were never committed.
      pipeline.forget?.();
      if (await dataMayBeAtFault(err)) await commitOneByOne(batch, err);
      else fail(batch, err);
      return;
    }
    source.committed(batch);
    metrics?.commitSeconds.observe((performance.now() - started) / 1000);
    metrics?.batchSize.observe(batch.length);
    metrics?.batches.inc();
    counters.batches++;
    account(outcome, processed.rejected);
    await options.onCommitted?.(processed.readings);
  }

  /**
   * The batch's write failed and one of its messages may be the cause: each is written
   * alone. One that fails alone with a data error `poisonAttempts` times is quarantined
   * as `poison` and acknowledged; the others commit. Should the database turn out to be
   * away, what is not committed yet is handed back, unacknowledged, as for any outage.
   */
  async function commitOneByOne(batch: readonly M[], batchErr: unknown): Promise<void> {
    logger.warn(
      { err: (batchErr as Error).message, messages: batch.length },
      'ingest batch failed on its data; writing its messages one by one',
    );
    const done: M[] = [];
    const readings: BoundReading[] = [];
    for (let i = 0; i < batch.length; i++) {
      const message = batch[i]!;
      const alone = await commitAlone(message);
      if (alone.outage) {
        if (done.length > 0) source.committed(done);
        fail(batch.slice(i), alone.err);
        if (readings.length > 0) await options.onCommitted?.(readings);
        return;
      }
      done.push(message);
      readings.push(...alone.readings);
    }
    source.committed(done);
    counters.batches++;
    metrics?.batches.inc();
    await options.onCommitted?.(readings);
  }

  type Alone = { outage: false; readings: readonly BoundReading[] } | { outage: true; err: unknown };

  async function commitAlone(message: M): Promise<Alone> {
    let lastErr: unknown;
    for (let attempt = 1; attempt <= poisonAttempts; attempt++) {
      let processed: PipelineResult;
      try {
        processed = await runPipeline([message]);
      } catch (err) {
        pipeline.forget?.();
        return { outage: true, err };
      }
      try {
        const outcome = await writer.writeBatch(processed.readings, processed.rejected);
        account(outcome, processed.rejected);
        return { outage: false, readings: processed.readings };
      } catch (err) {
        pipeline.forget?.();
        if (!(await dataMayBeAtFault(err))) return { outage: true, err };
        lastErr = err;
      }
    }
    const code = pgErrorCode(lastErr);
    const entry: QuarantineEntry = {
      receivedAtMs: message.receivedAtMs,
      topic: message.topic,
      deviceId: deviceFromTopic(message.topic)?.deviceId ?? null,
      reason: 'poison',
      detail: `writing this message alone failed ${poisonAttempts} times: ${code ? `${code} ` : ''}${errorText(lastErr)}`.slice(0, 1000),
      payload: message.payload,
    };
    try {
      account(await writer.writeBatch([], [entry]), [entry]);
    } catch (err) {
      return { outage: true, err };
    }
    counters.poisoned++;
    logger.error({ topic: message.topic.slice(0, 200), err: entry.detail }, 'poison message quarantined and acknowledged');
    return { outage: false, readings: [] };
  }

  return {
    counters,
    accept(message: M): void {
      if (stopped) {
        // Not acknowledged: the broker keeps it for the next worker.
        source.failed([message], new Error('worker stopping'));
        return;
      }
      counters.received++;
      metrics?.received.inc();
      pending.push(message);
      metrics?.inFlight.set(inFlight());
      updatePause();
      schedule();
    },
    /** Drops waiting messages that can no longer be acknowledged (their connection is gone). */
    drop(predicate: (message: M) => boolean): void {
      pending = pending.filter((m) => !predicate(m));
      metrics?.inFlight.set(inFlight());
      updatePause();
      schedule();
    },
    /** Resolves when everything received so far has been committed (or has failed). */
    idle(): Promise<void> {
      if (pending.length === 0 && running.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    /** Stops taking messages, then commits and acknowledges what it already holds. */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      schedule();
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
export type IngestWorker<M extends RawMessage = RawMessage> = ReturnType<typeof createIngestWorker<M>>;
