/**
 * Runs the fleet simulation in real time (or faster) against an MQTT broker. With a
 * secret per device, each vehicle is its own tracker: its own connection, username =
 * device id, password = its secret, QoS 1 to its own topic. Without secrets, one
 * connection with the URL's credentials publishes for all (a broker that allows it).
 *
 * Like a real tracker, a device that loses its connection keeps what it could not send
 * (up to a bound) and sends it when it is back; the model's own coverage gaps arrive
 * as JSON arrays already.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { createFleetSimulation, type FleetOptions, type ScheduleMode, type SimMessage } from './fleet/index.js';
import type { OutputFormat } from './formats.js';
import type { TruthRecord } from './truth.js';
import type { SimVehicle } from './vehicles.js';

export interface LiveDevice extends SimVehicle {
  /** The device's MQTT password; without it the device publishes over the shared connection. */
  secret?: string;
}

export interface LiveSimulationOptions {
  /** The broker; without one, messages only go to `onMessage`. */
  mqttUrl?: string;
  devices: LiveDevice[];
  /** Seconds of simulated time between readings with the ignition on (whole seconds). */
  intervalS: number;
  seed: number;
  /** Simulated seconds per wall-clock second. */
  speedup?: number;
  /** Simulated time at start; defaults to now. Earlier starts keep sped-up timestamps out of the future. */
  startMs?: number;
  /** Default `always`: a demo opened at night still shows traffic. */
  schedule?: ScheduleMode;
  format?: OutputFormat;
  /** The rest of the model's options (sensor noise, event rates, …). */
  model?: Omit<FleetOptions, 'vehicles' | 'seed' | 'startMs' | 'schedule' | 'format' | 'intervalS'>;
  onMessage?: (message: SimMessage) => void;
  /** Ground truth as it happens; the closing records come when `stop()` is called. */
  onTruth?: (record: TruthRecord) => void;
  onError?: (err: Error) => void;
  /** The wall clock, for tests. */
  clock?: () => number;
}

export interface LiveSimulation {
  /** Readings the broker has acknowledged (a flushed backlog counts each reading). */
  published(): number;
  /** Readings generated so far. */
  generated(): number;
  /** Simulated time reached, epoch ms. */
  simulatedNowMs(): number;
  stop(): Promise<void>;
}

/** A real tracker's memory is finite too; the oldest messages go first. */
const MAX_BACKLOG_MESSAGES = 2000;
const RECONNECT_PERIOD_MS = 5000;
const CONNECT_TIMEOUT_MS = 10_000;
const END_TIMEOUT_MS = 5000;

interface Connection {
  label: string;
  client: MqttClient;
  backlog: SimMessage[];
}

async function connect(
  mqttUrl: string,
  label: string,
  credentials: { username: string; password: string; clientId: string } | null,
): Promise<MqttClient> {
  try {
    return await mqtt.connectAsync(
      mqttUrl,
      {
        ...(credentials ?? { clientId: `armada-sim-${process.pid}-${Date.now().toString(36)}` }),
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: RECONNECT_PERIOD_MS,
        connectTimeout: CONNECT_TIMEOUT_MS,
      },
      false,
    );
  } catch (err) {
    throw new Error(`${label} could not connect to ${mqttUrl}: ${(err as Error).message}`);
  }
}

export async function endClient(client: MqttClient): Promise<void> {
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
  const clock = opts.clock ?? Date.now;
  const report = (err: Error): void => {
    try {
      opts.onError?.(err);
    } catch {
      // A failing error handler must not take the timers down with it.
    }
  };

  const wallStartMs = clock();
  const simStartMs = opts.startMs ?? wallStartMs;
  const simulation = createFleetSimulation({
    ...opts.model,
    vehicles: opts.devices.map(({ secret: _secret, ...vehicle }) => vehicle),
    seed: opts.seed,
    startMs: simStartMs,
    schedule: opts.schedule ?? 'always',
    format: opts.format ?? 'armada',
    intervalS: Math.max(1, Math.round(opts.intervalS)),
  });

  // Connections: one per device with a secret, one shared for the rest.
  const connections = new Map<string, Connection>();
  const opened: Connection[] = [];
  if (opts.mqttUrl) {
    const mqttUrl = opts.mqttUrl;
    const withSecret = opts.devices.filter((d) => d.secret !== undefined);
    const needShared = withSecret.length < opts.devices.length;
    const attempts = [
      ...withSecret.map((d) => ({
        label: `device ${d.deviceId}`,
        ids: [d.deviceId],
        credentials: { username: d.deviceId, password: d.secret!, clientId: `armada-sim-${d.deviceId.replace('/', '-')}` },
      })),
      ...(needShared
        ? [{ label: 'the simulator', ids: opts.devices.filter((d) => d.secret === undefined).map((d) => d.deviceId), credentials: null }]
        : []),
    ];
    const settled = await Promise.allSettled(attempts.map((a) => connect(mqttUrl, a.label, a.credentials)));
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) {
      await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? endClient(s.value) : undefined)));
      throw failure.reason as Error;
    }
    attempts.forEach((attempt, i) => {
      const client = (settled[i] as PromiseFulfilledResult<MqttClient>).value;
      const connection: Connection = { label: attempt.label, client, backlog: [] };
      client.on('error', (err) => report(new Error(`${attempt.label}: ${err.message}`)));
      client.on('connect', () => flush(connection));
      opened.push(connection);
      for (const id of attempt.ids) connections.set(id, connection);
    });
  }

  let publishedCount = 0;
  let generatedCount = 0;
  let stopping = false;

  const publish = (connection: Connection, message: SimMessage): void => {
    connection.client.publish(message.topic, JSON.stringify(message.payload), { qos: 1 }, (err) => {
      if (err) {
        if (!stopping) report(new Error(`${connection.label}: publish failed: ${err.message}`));
        return;
      }
      publishedCount += message.readings;
    });
  };

  function flush(connection: Connection): void {
    for (const message of connection.backlog.splice(0)) publish(connection, message);
  }

  const deliver = (message: SimMessage): void => {
    generatedCount += message.readings;
    opts.onMessage?.(message);
    const connection = connections.get(message.deviceId);
    if (!connection) return;
    if (connection.client.connected) {
      publish(connection, message);
    } else {
      connection.backlog.push(message);
      if (connection.backlog.length > MAX_BACKLOG_MESSAGES) connection.backlog.shift();
    }
  };

  const tick = (): void => {
    try {
      const simNowMs = simStartMs + (clock() - wallStartMs) * speedup;
      const { messages, truth } = simulation.advanceTo(simNowMs);
      for (const message of messages) deliver(message);
      for (const record of truth) opts.onTruth?.(record);
    } catch (err) {
      report(err instanceof Error ? err : new Error(String(err)));
    }
  };

  tick();
  // Readings are spread over each interval; ticking often keeps them on time.
  const timer = setInterval(tick, Math.max(50, Math.min(1000, 1000 / speedup)));

  let stopped: Promise<void> | undefined;
  return {
    published: () => publishedCount,
    generated: () => generatedCount,
    simulatedNowMs: () => simulation.nowMs(),
    stop(): Promise<void> {
      stopped ??= (async () => {
        clearInterval(timer);
        try {
          const last = simulation.finish();
          for (const message of last.messages) deliver(message);
          for (const record of last.truth) opts.onTruth?.(record);
        } catch (err) {
          report(err instanceof Error ? err : new Error(String(err)));
        }
        stopping = true;
        await Promise.all(opened.map((c) => endClient(c.client)));
      })();
      return stopped;
    },
  };
}
