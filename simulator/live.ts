/**
 * Runs the fleet simulation against a real MQTT broker, each vehicle as its own
 * tracker: its own connection, username = device id, password = its secret, QoS 1
 * JSON to its own telemetry topic. Like a real tracker, a device that loses its
 * connection keeps its readings (up to a bound) and sends them as one JSON array
 * when it is back.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { telemetryTopic } from '../src/domain/topics.js';
import { createFleetSimulation, type SimVehicle, type TelemetryPayload } from './fleet.js';

export interface LiveDevice extends SimVehicle {
  secret: string;
}

export interface LiveSimulationOptions {
  mqttUrl: string;
  devices: LiveDevice[];
  intervalS: number;
  seed: number;
  /** Simulated seconds per wall-clock second. */
  speedup?: number;
  /** Simulated time at start; defaults to now. Earlier starts keep sped-up timestamps out of the future. */
  startMs?: number;
  onError?: (err: Error) => void;
}

export interface LiveSimulation {
  /** Readings the broker has acknowledged (a flushed backlog counts each reading). */
  published(): number;
  stop(): Promise<void>;
}

/** A real tracker's memory is finite too; the oldest readings go first. */
const MAX_BACKLOG_READINGS = 2000;
/** Keeps a flushed array well under the ingest limits (256 KiB, 5000 readings). */
const FLUSH_CHUNK_READINGS = 500;
const RECONNECT_PERIOD_MS = 5000;
const CONNECT_TIMEOUT_MS = 10_000;
const END_TIMEOUT_MS = 5000;

interface Tracker {
  deviceId: string;
  client: MqttClient;
  topic: string;
  backlog: TelemetryPayload[];
}

async function connectTracker(mqttUrl: string, device: LiveDevice): Promise<MqttClient> {
  try {
    return await mqtt.connectAsync(
      mqttUrl,
      {
        username: device.deviceId,
        password: device.secret,
        clientId: `armada-sim-${device.deviceId}`,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: RECONNECT_PERIOD_MS,
        connectTimeout: CONNECT_TIMEOUT_MS,
      },
      false,
    );
  } catch (err) {
    throw new Error(`device ${device.deviceId} could not connect to ${mqttUrl}: ${(err as Error).message}`);
  }
}

async function endClient(client: MqttClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), END_TIMEOUT_MS);
  });
  try {
    // A graceful end waits for unacknowledged messages; with the broker gone that is forever.
    if ((await Promise.race([client.endAsync(), timedOut])) === 'timeout') await client.endAsync(true);
  } finally {
    clearTimeout(timer);
  }
}

export async function startLiveSimulation(opts: LiveSimulationOptions): Promise<LiveSimulation> {
  const speedup = opts.speedup ?? 1;
  if (!(opts.intervalS > 0)) throw new Error(`intervalS must be positive, got ${opts.intervalS}`);
  if (!(speedup > 0)) throw new Error(`speedup must be positive, got ${speedup}`);
  const report = (err: Error): void => {
    try {
      opts.onError?.(err);
    } catch {
      // A failing error handler must not take the timers down with it.
    }
  };

  const settled = await Promise.allSettled(opts.devices.map((d) => connectTracker(opts.mqttUrl, d)));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? endClient(s.value) : undefined)));
    throw failure.reason as Error;
  }

  let publishedCount = 0;
  let stopping = false;

  const publish = (tracker: Tracker, payloads: TelemetryPayload[]): void => {
    const body = JSON.stringify(payloads.length === 1 ? payloads[0] : payloads);
    tracker.client.publish(tracker.topic, body, { qos: 1 }, (err) => {
      if (err) {
        if (!stopping) report(new Error(`device ${tracker.deviceId}: publish failed: ${err.message}`));
        return;
      }
      publishedCount += payloads.length;
    });
  };

  const flushBacklog = (tracker: Tracker): void => {
    while (tracker.backlog.length > 0) publish(tracker, tracker.backlog.splice(0, FLUSH_CHUNK_READINGS));
  };

  const trackers = new Map<string, Tracker>();
  opts.devices.forEach((device, i) => {
    const outcome = settled[i] as PromiseFulfilledResult<MqttClient>;
    const tracker: Tracker = { deviceId: device.deviceId, client: outcome.value, topic: telemetryTopic(device.deviceId), backlog: [] };
    tracker.client.on('error', (err) => report(new Error(`device ${device.deviceId}: ${err.message}`)));
    tracker.client.on('connect', () => flushBacklog(tracker));
    trackers.set(device.deviceId, tracker);
  });

  const wallStartMs = Date.now();
  const simStartMs = opts.startMs ?? wallStartMs;
  const simulation = createFleetSimulation({ vehicles: opts.devices, seed: opts.seed, startMs: simStartMs });

  const tick = (): void => {
    try {
      const simNowMs = simStartMs + (Date.now() - wallStartMs) * speedup;
      for (const { deviceId, payload } of simulation.step(simNowMs)) {
        const tracker = trackers.get(deviceId);
        if (!tracker) continue;
        if (tracker.client.connected) {
          publish(tracker, [payload]);
        } else {
          tracker.backlog.push(payload);
          if (tracker.backlog.length > MAX_BACKLOG_READINGS) tracker.backlog.shift();
        }
      }
    } catch (err) {
      report(err instanceof Error ? err : new Error(String(err)));
    }
  };

  tick();
  const timer = setInterval(tick, (opts.intervalS * 1000) / speedup);

  let stopped: Promise<void> | undefined;
  return {
    published: () => publishedCount,
    stop(): Promise<void> {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(timer);
        await Promise.all([...trackers.values()].map((t) => endClient(t.client)));
      })();
      return stopped;
    },
  };
}
