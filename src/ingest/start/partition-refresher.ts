/**
 * With WORKER_COUNT > 1 (or INGEST_SUBSCRIPTIONS=per-device) a worker subscribes not to
 * the wildcards but to the exact topics of the devices it owns (../partition.ts), read
 * from the devices table at start and again every DEVICE_REFRESH_MS (docs/scale-out.md).
 */
import type { Repositories } from '../../repositories/index.js';
import type { BrokerSession } from '../broker-session.js';
import { ownedTopics, type Partition } from '../partition.js';
import type { IngestDeps } from './deps.js';

/** The telemetry topics of the devices this worker owns, from the devices table. */
export async function loadOwnedTopics(repos: Pick<Repositories, 'devices'>, partition: Partition): Promise<string[]> {
  return ownedTopics(await repos.devices.protocols(), partition);
}

/**
 * Keeps the session subscribed to exactly the owned devices' topics: new devices are
 * added, devices that disappeared from the table are dropped. A refresh that fails
 * (database away) changes nothing and is tried again at the next tick.
 */
export function partitionRefresher(deps: IngestDeps, session: BrokerSession, partition: Partition) {
  const { logger } = deps;
  let running: Promise<void> | undefined;
  async function refresh(): Promise<void> {
    const wanted = await loadOwnedTopics(deps.repos, partition);
    const current = new Set(session.subscriptions);
    const wantedSet = new Set(wanted);
    const added = wanted.filter((t) => !current.has(t));
    const removed = [...current].filter((t) => !wantedSet.has(t));
    if (added.length > 0) {
      await session.subscribe(added);
      // Operators wait for this line (with the device's topic) before letting a new device connect.
      logger.info(
        {
          workerIndex: partition.index,
          added: added.length,
          owned: wanted.length,
          topics: added.slice(0, 1000),
          ...(added.length > 1000 ? { truncated: true } : {}),
        },
        'subscribed to the topics of new devices',
      );
    }
    if (removed.length > 0) {
      await session.unsubscribe(removed);
      logger.info(
        { workerIndex: partition.index, removed: removed.length, owned: wanted.length },
        'unsubscribed from the topics of removed devices',
      );
    }
  }
  /** One refresh at a time; a caller that arrives during one waits for the next, which sees its change. */
  let queued: Promise<void> | undefined;
  function refreshNow(): Promise<void> {
    queued ??= (running ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        running = refresh().finally(() => (running = undefined));
        return running;
      });
    return queued;
  }
  const timer = setInterval(() => {
    if (running || queued) return;
    refreshNow().catch((err: Error) => logger.warn({ err: err.message }, 'device list refresh failed; trying again at the next tick'));
  }, deps.config.deviceRefreshMs);
  timer.unref();
  return {
    refreshNow,
    async stop(): Promise<void> {
      clearInterval(timer);
      await queued?.catch(() => undefined);
      await running?.catch(() => undefined);
    },
  };
}
