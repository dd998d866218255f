/** What starting ingest takes, and what it hands back to the process that started it. */
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Database } from '../../db/client.js';
import type { EmbeddedBroker } from '../../broker/embedded.js';
import type { IngestMetrics } from '../../metrics.js';
import type { Repositories } from '../../repositories/index.js';
import type { AlertEngine } from '../../alerts/engine.js';
import type { IngestCounters } from '../worker.js';

export interface RunningIngest {
  readonly counters: IngestCounters;
  /** Judges committed readings and reports silent devices. */
  readonly alerts: AlertEngine;
  /** Set when this process runs the embedded broker. */
  readonly broker: EmbeddedBroker | undefined;
  /** Connected to the broker and able to take messages. */
  isReady(): boolean;
  /** Resolves when everything received so far is committed. */
  idle(): Promise<void>;
  /**
   * The devices table changed (a device was registered here): with per-device
   * subscriptions the session subscribes to the new topics now, not at the next refresh.
   * Resolves once the broker has granted them.
   */
  devicesChanged(): Promise<void>;
  /** Deletes the quarantine rows older than the retention now (as the hourly run does); answers how many. */
  expireQuarantine(): Promise<number>;
  /** Commits and acknowledges what it holds, then disconnects. */
  stop(): Promise<void>;
}

export interface IngestDeps {
  config: Config;
  database: Database;
  repos: Repositories;
  logger: Logger;
  metrics: IngestMetrics;
  /** The clock of the alert engine's periodic checks (tests move it); default the system's. */
  now?: () => Date;
}
