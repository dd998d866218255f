/**
 * What bench/ingest.ts and its consumer child process (bench/consumer-child.ts) say to
 * each other over the IPC channel. The consumer runs in its own process so that its
 * memory is its own and it gets a core of its own, as a deployed worker would.
 */

export type ConsumerMode = 'raw' | 'worker';

export interface ConsumerArgs {
  mode: ConsumerMode;
  mqttUrl: string;
  /** Only for 'worker'. */
  databaseUrl?: string;
  /** Messages the publisher sends: the consumer reports when it has handled this many. */
  expected: number;
}

export interface WorkerFigures {
  received: number;
  stored: number;
  duplicates: number;
  quarantined: number;
  batches: number;
  failedBatches: number;
  batchSize: number;
  batchWaitMs: number;
}

export interface ConsumerResult {
  handled: number;
  /** Wall-clock (Date.now()) times, comparable with the parent's. */
  at10PercentMs: number;
  at90PercentMs: number;
  lastAtMs: number;
  /** Subscribed and idle, before the first message. */
  readyRssMb: number;
  peakRssMb: number;
  peakHeapUsedMb: number;
  /** CPU time (user + system, all threads) the process spent from subscribed to done. */
  cpuMs: number;
  worker: WorkerFigures | undefined;
}

export type ChildMessage =
  | { type: 'ready'; rssMb: number }
  | { type: 'progress'; handled: number }
  | { type: 'done'; result: ConsumerResult }
  | { type: 'failed'; error: string };

export type ParentMessage = { type: 'stop' };

export const bytesToMb = (bytes: number): number => bytes / (1024 * 1024);
