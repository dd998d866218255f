import { startQuarantineRetention } from '../quarantine-limits.js';
import type { IngestDeps } from './deps.js';

const RETENTION_INTERVAL_MS = 3_600_000;

/**
 * The quarantine's retention, run by the first worker only (the others would delete the
 * same rows). The settings are shown as gauges in /metrics.
 */
export function quarantineRetention(deps: IngestDeps) {
  const { config, metrics } = deps;
  metrics.quarantineRetentionDays.set(config.quarantineRetentionDays);
  metrics.quarantineDeviceCap.set(config.quarantineDeviceCap);
  if (config.workerIndex !== 0) return undefined;
  return startQuarantineRetention({
    expire: (days) => deps.repos.quarantine.expire(days),
    retentionDays: config.quarantineRetentionDays,
    intervalMs: RETENTION_INTERVAL_MS,
    logger: deps.logger,
    metrics,
  });
}
