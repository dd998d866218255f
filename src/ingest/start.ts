/**
 * Starts ingest in one of its two shapes:
 *
 *  - external broker (MQTT_URL): the worker's own persistent MQTT session subscribes to
 *    the telemetry topics and sends PUBACKs after commit; a failed commit reconnects,
 *    so the broker redelivers what was not acknowledged;
 *  - embedded broker: aedes hands each device's message to the worker and holds the
 *    device's PUBACK until its batch is committed.
 *
 * With WORKER_COUNT > 1 (external broker only) this worker subscribes not to the
 * wildcards but to the exact topics of the devices it owns (./partition.ts), read from
 * the devices table at start and again every DEVICE_REFRESH_MS (docs/scale-out.md).
 *
 * What each start sets up is a module of ./start/: the worker's settings, the alert
 * engine beside it, the quarantine's retention (first worker only), the wait for the
 * database after a failed commit, the partition refresher, and the two shapes.
 */
export type { IngestDeps, RunningIngest } from './start/deps.js';
export { startEmbeddedIngest } from './start/embedded.js';
export { startExternalIngest } from './start/external.js';
