/**
 * The simulator's MQTT side against a real broker (aedes, in this process): the QoS 1
 * publisher of the batch and load modes, load mode's achieved rate, and live mode with
 * a shared connection and with a connection per device.
 */
import net from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTelemetryPayload } from '../../src/domain/telemetry.js';
import { startLiveSimulation } from '../../simulator/live.js';
import { runLoad } from '../../simulator/load.js';
import { QosPublisher } from '../../simulator/mqtt-publisher.js';
import { simulatedFleet } from '../../simulator/sim-fleet.js';
import type { TruthRecord } from '../../simulator/truth.js';

interface Received {
  topic: string;
  payload: string;
}

let broker: Aedes;
let server: net.Server;
let url: string;
let subscriber: MqttClient;
let received: Received[] = [];
/** Devices that must authenticate: id → secret. Anyone else comes in anonymously. */
const secrets = new Map<string, string>();

beforeAll(async () => {
  broker = await Aedes.createBroker({
    authenticate(_client, username, password, done) {
      if (username === undefined || !secrets.has(username)) return done(null, username === undefined);
      const ok = password?.toString() === secrets.get(username);
      done(ok ? null : (Object.assign(new Error('bad secret'), { returnCode: 4 }) as AuthenticateError), ok);
    },
  });
  server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  subscriber = await mqtt.connectAsync(url, { clientId: 'sim-test-subscriber', protocolVersion: 4, reconnectPeriod: 0 });
  await subscriber.subscribeAsync(['fleet/v1/devices/+/telemetry', 'bench/#'], { qos: 1 });
  subscriber.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
});

afterAll(async () => {
  await subscriber?.endAsync();
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('QoS 1 publisher', () => {
  it('delivers every message, in order, and counts the acknowledgements', async () => {
    received = [];
    const publisher = await QosPublisher.connect({ url, clientId: 'sim-test-pub', maxInFlight: 50 });
    for (let i = 0; i < 3000; i++) await publisher.publish('bench/order', String(i));
    await publisher.flush();
    expect(publisher.acked).toBe(3000);
    await until(() => received.length === 3000, '3000 messages');
    expect(received.map((r) => Number(r.payload))).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    await publisher.end();
  });

  it('says why the broker refused it', async () => {
    secrets.set('dev-refused', 'right');
    await expect(QosPublisher.connect({ url, clientId: 'x', username: 'dev-refused', password: 'wrong' })).rejects.toThrow(
      /bad user name or password/,
    );
  });
});

describe('load mode', () => {
  it('publishes at the target rate and reports the rate achieved', async () => {
    received = [];
    const devices = simulatedFleet(20, 'armada');
    const result = await runLoad({ mqttUrl: url, devices, ratePerS: 500, durationS: 2, seed: 1, format: 'armada', sharedConnections: 2 });
    expect(result.acked).toBe(result.sent);
    expect(result.sent).toBeGreaterThan(900);
    expect(result.sent).toBeLessThanOrEqual(1000);
    expect(result.achievedRatePerS).toBeGreaterThan(350);
    expect(result.achievedRatePerS).toBeLessThanOrEqual(510);
    await until(() => received.length === result.sent, 'the load messages');
    const perDevice = new Map<string, number[]>();
    for (const r of received) {
      const parsed = parseTelemetryPayload(Buffer.from(r.payload));
      expect(parsed.rejections).toEqual([]);
      const times = perDevice.get(r.topic) ?? [];
      times.push(parsed.readings[0]!.fixAtMs);
      perDevice.set(r.topic, times);
    }
    expect(perDevice.size).toBe(20);
    // Every reading of a device has its own fix time, so none is stored as a duplicate.
    for (const times of perDevice.values()) expect(new Set(times).size).toBe(times.length);
  });
});

describe('live mode', () => {
  it('drives the fleet over one shared connection and closes the truth on stop', async () => {
    received = [];
    const truth: TruthRecord[] = [];
    const devices = simulatedFleet(4, 'armada');
    const live = await startLiveSimulation({
      mqttUrl: url,
      devices,
      intervalS: 10,
      seed: 3,
      speedup: 600,
      startMs: Date.parse('2026-11-02T09:00:00+08:00'),
      onTruth: (r) => truth.push(r),
    });
    await until(() => live.published() >= 40, 'forty readings');
    await live.stop();
    expect(new Set(received.map((r) => r.topic))).toEqual(new Set(devices.map((d) => `fleet/v1/devices/${d.deviceId}/telemetry`)));
    for (const r of received) expect(parseTelemetryPayload(Buffer.from(r.payload)).rejections).toEqual([]);
    expect(
      truth
        .filter((r) => r.type === 'vehicle')
        .map((r) => r.deviceId)
        .sort(),
    ).toEqual(devices.map((d) => d.deviceId).sort());
    // 600 simulated seconds a second: forty readings of four vehicles is about a minute of simulated time.
    expect(live.simulatedNowMs()).toBeGreaterThan(Date.parse('2026-11-02T09:00:30+08:00'));
  });

  it('connects each device with its own secret when it has one', async () => {
    received = [];
    const devices = simulatedFleet(3, 'armada').map((d, i) => ({ ...d, deviceId: `own-${i}`, secret: `secret-${i}` }));
    for (const d of devices) secrets.set(d.deviceId, d.secret);
    const connected: string[] = [];
    const onClient = (client: { id: string }) => connected.push(client.id);
    broker.on('client', onClient);
    const live = await startLiveSimulation({ mqttUrl: url, devices, intervalS: 5, seed: 4, speedup: 100, startMs: Date.now() - 3600_000 });
    await until(() => live.published() >= 6, 'six readings');
    await live.stop();
    broker.off('client', onClient);
    expect(connected.sort()).toEqual(devices.map((d) => `armada-sim-${d.deviceId}`).sort());
    expect(new Set(received.map((r) => r.topic))).toEqual(new Set(devices.map((d) => `fleet/v1/devices/${d.deviceId}/telemetry`)));
  });

  it('refuses to start when a device cannot connect', async () => {
    const devices = [{ ...simulatedFleet(1, 'armada')[0]!, deviceId: 'own-bad', secret: 'nope' }];
    secrets.set('own-bad', 'right');
    await expect(startLiveSimulation({ mqttUrl: url, devices, intervalS: 5, seed: 1 })).rejects.toThrow(/device own-bad could not connect/);
  });
});
