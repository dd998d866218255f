/**
 * Load mode, for benchmarks: N devices publishing QoS 1 readings at a target total rate
 * for a fixed time, and the rate the broker actually acknowledged. The readings come
 * from the fleet model (refreshed every second of real time) and carry the real time,
 * a millisecond apart at least per device, so that none is a duplicate of another.
 */
import { createFleetSimulation, type SimMessage } from './fleet/index.js';
import { encodeFix, topicFor, type Fix, type OutputFormat } from './formats.js';
import { openMqttSink } from './output.js';
import type { LiveDevice } from './live.js';

export interface LoadOptions {
  mqttUrl: string;
  devices: LiveDevice[];
  ratePerS: number;
  durationS: number;
  seed: number;
  format: OutputFormat;
  /** Connections shared by devices without a secret. */
  sharedConnections: number;
  onProgress?(p: { elapsedS: number; sent: number; acked: number }): void;
  signal?: AbortSignal;
}

export interface LoadResult {
  targetRatePerS: number;
  devices: number;
  sent: number;
  acked: number;
  elapsedS: number;
  /** Acknowledged messages per second over the whole run, including the wait for the last acknowledgements. */
  achievedRatePerS: number;
  sentRatePerS: number;
}

const TICK_MS = 10;
const FINAL_ACK_WAIT_MS = 10_000;

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const sink = await openMqttSink(opts.mqttUrl, opts.devices, {
    sharedConnections: opts.sharedConnections,
    clientIdPrefix: `armada-sim-load-${process.pid}`,
    maxInFlight: 500,
  });
  const startMs = Date.now();
  const simulation = createFleetSimulation({
    vehicles: opts.devices.map(({ secret: _secret, ...v }) => v),
    seed: opts.seed,
    startMs,
    schedule: 'always',
    intervalS: 1,
    offlineRatePerDay: 0,
    badFixRate: 0,
  });
  const ids = opts.devices.map((d) => d.deviceId);
  const topics = ids.map((id) => topicFor(opts.format, id));
  let snapshots = simulation.step(startMs);
  let snapshotSecond = 0;
  const lastTs = new Float64Array(ids.length);
  const seq = new Float64Array(ids.length);
  let sent = 0;
  let next = 0;
  const endMs = startMs + opts.durationS * 1000;
  let lastProgressMs = startMs;

  const message = (i: number, nowMs: number): SimMessage => {
    const snapshot = snapshots[i]!.payload;
    // OwnTracks times are whole seconds: a device can then send one reading a second.
    const stepMs = opts.format === 'owntracks' ? 1000 : 1;
    const atMs = Math.max(opts.format === 'owntracks' ? Math.floor(nowMs / 1000) * 1000 : nowMs, lastTs[i]! + stepMs);
    lastTs[i] = atMs;
    seq[i] = seq[i]! + 1;
    const fix: Fix = {
      ...snapshot,
      atMs,
      altitudeM: snapshot.altitudeM,
      accuracyM: 5,
      phoneBatteryPercent: 100,
      seq: seq[i]!,
    };
    return { atMs, deviceId: ids[i]!, topic: topics[i]!, payload: encodeFix(opts.format, ids[i]!, fix), readings: 1 };
  };

  try {
    while (!opts.signal?.aborted) {
      const nowMs = Date.now();
      if (nowMs >= endMs) break;
      const second = Math.floor((nowMs - startMs) / 1000);
      if (second > snapshotSecond) {
        snapshots = simulation.step(nowMs);
        snapshotSecond = second;
      }
      const due = Math.floor((opts.ratePerS * (nowMs - startMs)) / 1000) - sent;
      for (let k = 0; k < due && Date.now() < endMs; k++) {
        await sink.publish(message(next, Date.now()));
        next = (next + 1) % ids.length;
        sent += 1;
      }
      if (opts.onProgress && nowMs - lastProgressMs >= 1000) {
        lastProgressMs = nowMs;
        opts.onProgress({ elapsedS: (nowMs - startMs) / 1000, sent, acked: sink.ackedMessages() });
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    const sentAtMs = Date.now();
    await Promise.race([sink.flush(), new Promise((resolve) => setTimeout(resolve, FINAL_ACK_WAIT_MS).unref())]);
    const elapsedS = (Date.now() - startMs) / 1000;
    const acked = sink.ackedMessages();
    return {
      targetRatePerS: opts.ratePerS,
      devices: ids.length,
      sent,
      acked,
      elapsedS,
      achievedRatePerS: acked / elapsedS,
      sentRatePerS: sent / ((sentAtMs - startMs) / 1000),
    };
  } finally {
    await sink.end();
  }
}
