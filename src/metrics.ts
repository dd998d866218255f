/**
 * Prometheus metrics of one process, served at GET /metrics. One registry per process
 * (not prom-client's global one), so tests can run several services side by side.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  // prom-client's own names start with process_ or nodejs_: 'armada_' keeps them ours without doubling
  // (armada_process_cpu_seconds_total, not armada_process_process_cpu_seconds_total).
  collectDefaultMetrics({ register: registry, prefix: 'armada_' });
  const registers = [registry];
  return {
    registry,
    ingest: {
      received: new Counter({
        name: 'armada_ingest_messages_received_total',
        help: 'MQTT messages received by the ingest worker',
        registers,
      }),
      stored: new Counter({ name: 'armada_ingest_readings_stored_total', help: 'Readings committed to the telemetry table', registers }),
      duplicates: new Counter({
        name: 'armada_ingest_readings_duplicate_total',
        help: 'Readings skipped because the vehicle already has a reading at that fix time (redeliveries, re-sends)',
        registers,
      }),
      quarantined: new Counter({
        name: 'armada_ingest_quarantined_total',
        help: 'Messages or readings put in quarantine, by reason',
        labelNames: ['reason'] as const,
        registers,
      }),
      batches: new Counter({ name: 'armada_ingest_batches_total', help: 'Batches committed', registers }),
      failedBatches: new Counter({
        name: 'armada_ingest_batches_failed_total',
        help: 'Batches whose commit failed (nothing of them was acknowledged)',
        registers,
      }),
      batchSize: new Histogram({
        name: 'armada_ingest_batch_messages',
        help: 'Messages per committed batch',
        buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
        registers,
      }),
      commitSeconds: new Histogram({
        name: 'armada_ingest_commit_seconds',
        help: 'Time to write and commit one batch',
        buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers,
      }),
      inFlight: new Gauge({ name: 'armada_ingest_in_flight_messages', help: 'Messages received and not yet acknowledged', registers }),
      stateUnwritten: new Gauge({
        name: 'armada_ingest_state_unwritten_batches',
        help: "Committed batches whose devices' figures and vehicles' latest positions this worker has not yet written (a flush interval's worth, one to ten INGEST_STATE_FLUSH_MS; growing: the writes fail)",
        registers,
      }),
      quarantineCapped: new Counter({
        name: 'armada_ingest_quarantine_capped_total',
        help: "Rejects beyond a device's quarantine cap, by reason: counted on one row per device and period, not stored",
        labelNames: ['reason'] as const,
        registers,
      }),
      quarantineDeviceCap: new Gauge({
        name: 'armada_quarantine_device_cap',
        help: 'Rejects stored per device per period before the rest are only counted (QUARANTINE_DEVICE_CAP; 0: no cap)',
        registers,
      }),
      quarantineExpired: new Counter({
        name: 'armada_quarantine_expired_total',
        help: 'Quarantine rows deleted because their payload last came longer ago than the retention',
        registers,
      }),
      quarantineRetentionDays: new Gauge({
        name: 'armada_quarantine_retention_days',
        help: 'Days a quarantine row is kept after its payload last came (QUARANTINE_RETENTION_DAYS)',
        registers,
      }),
      seqGaps: new Counter({
        name: 'armada_ingest_seq_missing_total',
        help: 'Readings found missing from per-device seq counters (a late reading that fills a gap counts back down in the per-device figure, not here)',
        registers,
      }),
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
export type IngestMetrics = Metrics['ingest'];
