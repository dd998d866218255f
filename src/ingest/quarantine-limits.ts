/**
 * Bounds on the quarantine's growth (docs/ingest-hardening.md):
 *
 *  - a per-device cap: beyond `cap` rejects from one device within a period, further
 *    rejects are not stored one by one but counted on a single row per device, topic and
 *    period (reason `quarantine_cap`, its times_seen the count). A broken or hostile
 *    device then costs a row an hour, not a row a message. The count is kept in this
 *    process (each device belongs to one worker); a redelivered batch is counted again,
 *    and a restart starts the periods afresh.
 *  - retention: rows whose payload last came more than `retentionDays` ago are deleted.
 *
 * Both show in /metrics: armada_ingest_quarantine_capped_total and
 * armada_quarantine_expired_total, with the settings as gauges.
 */
import type { Logger } from 'pino';
import type { IngestMetrics } from '../metrics.js';
import type { QuarantineEntry } from '../domain/ingest-types.js';

export interface QuarantineCapSettings {
  /** Rejects stored per device per period; 0 for no cap. */
  cap: number;
  periodMs: number;
}

interface DeviceWindow {
  startMs: number;
  stored: number;
}

/** Above this many devices in the map, windows that have ended are dropped. */
const PRUNE_ABOVE = 10_000;

export function createQuarantineCap(settings: QuarantineCapSettings, metrics?: Pick<IngestMetrics, 'quarantineCapped'>) {
  const windows = new Map<string, DeviceWindow>();

  function prune(nowMs: number): void {
    for (const [key, w] of windows) if (nowMs - w.startMs >= settings.periodMs) windows.delete(key);
  }

  /**
   * The entries to write: those within their device's cap as they are, and for the
   * rest one counting entry per device, topic and period (same payload, so the writer and
   * the database add them up on one row).
   */
  return function admit(rejected: readonly QuarantineEntry[]): QuarantineEntry[] {
    if (settings.cap <= 0 || rejected.length === 0) return rejected as QuarantineEntry[];
    const kept: QuarantineEntry[] = [];
    for (const entry of rejected) {
      // Messages on no device's topic are counted together, per topic.
      const key = entry.deviceId ?? `topic:${entry.topic}`;
      let w = windows.get(key);
      if (!w || entry.receivedAtMs - w.startMs >= settings.periodMs) {
        if (!w && windows.size >= PRUNE_ABOVE) prune(entry.receivedAtMs);
        w = { startMs: entry.receivedAtMs, stored: 0 };
        windows.set(key, w);
      }
      if (w.stored < settings.cap) {
        w.stored++;
        kept.push(entry);
        continue;
      }
      metrics?.quarantineCapped.inc({ reason: entry.reason });
      const periodMin = Math.round(settings.periodMs / 60_000);
      kept.push({
        receivedAtMs: entry.receivedAtMs,
        topic: entry.topic,
        deviceId: entry.deviceId,
        reason: 'quarantine_cap',
        detail:
          `more than ${settings.cap} rejects in ${periodMin} min from ${entry.deviceId ?? 'this topic'} ` +
          `since ${new Date(w.startMs).toISOString()}: ` +
          `the rest are counted here (times seen), not stored; the latest was ${entry.reason}: ${entry.detail.slice(0, 300)}`,
        payload: Buffer.from(`quarantine cap period from ${new Date(w.startMs).toISOString()}`),
      });
    }
    return kept;
  };
}
export type QuarantineCap = ReturnType<typeof createQuarantineCap>;

/**
 * Deletes expired quarantine rows now and then every `intervalMs` (failures are logged
 * and tried again at the next tick). Returns a stop function that waits for a run in
 * progress.
 */
export function startQuarantineRetention(options: {
  expire: (retentionDays: number) => Promise<number>;
  retentionDays: number;
  intervalMs: number;
  logger: Logger;
  metrics?: Pick<IngestMetrics, 'quarantineExpired'>;
}): { runNow(): Promise<number>; stop(): Promise<void> } {
  let running: Promise<number> | undefined;
  let stopped = false;
  const runNow = (): Promise<number> => {
    running ??= options
      .expire(options.retentionDays)
      .then((deleted) => {
        options.metrics?.quarantineExpired.inc(deleted);
        if (deleted > 0) options.logger.info({ deleted, retentionDays: options.retentionDays }, 'expired quarantine rows deleted');
        return deleted;
      })
      .finally(() => (running = undefined));
    return running;
  };
  const tick = () => {
    if (stopped) return;
    runNow().catch((err: Error) => options.logger.warn({ err: err.message }, 'quarantine retention failed; trying again later'));
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  tick();
  return {
    runNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
