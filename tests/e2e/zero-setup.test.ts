/**
 * The zero-setup path as a user meets it: `armada start` with no DATABASE_URL and no
 * MQTT_URL runs on PGlite in DATA_DIR and the embedded broker, in one process.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/domain/topics.js';
import { freePort, runCli, type CliProcess } from '../support/process.js';
import { waitFor } from '../support/service.js';

const adminKey = 'zero-setup-admin-key-0123456789abcdef';
let dataDir: string;
let httpPort: number;
let mqttPort: number;
let service: CliProcess;
const env = () => ({ DATA_DIR: dataDir, HTTP_PORT: String(httpPort), MQTT_PORT: String(mqttPort), ADMIN_API_KEY: adminKey });
const api = (path: string, init: RequestInit & { json?: unknown } = {}) =>
  fetch(`http://127.0.0.1:${httpPort}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${adminKey}`, ...(init.json ? { 'content-type': 'application/json' } : {}) },
    ...(init.json ? { body: JSON.stringify(init.json) } : {}),
  });
const ready = () =>
  waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200, 'the service to be ready', 60_000);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'armada-zero-'));
  httpPort = await freePort();
  mqttPort = await freePort();
  service = runCli('start', env());
  await ready();
});

afterAll(async () => {
  if (service && service.child.exitCode === null) {
    service.child.kill('SIGKILL');
    await service.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('zero-setup service', () => {
  let device: { id: string; secret: string; vehicleId: string };

  it('registers a device and takes its telemetry through the embedded broker', async () => {
    const dep = (await (
      await api('/api/v1/departments', { method: 'POST', json: { code: 'DISHUB', name: 'Dinas Perhubungan' } })
    ).json()) as { id: string };
    const veh = (await (
      await api('/api/v1/vehicles', {
        method: 'POST',
        json: {
          plateNumber: 'DH 1 A',
          departmentId: dep.id,
          kind: 'car',
          fuelType: 'pertamax',
          tankCapacityLitres: 55,
          ratedLitresPer100Km: 11,
          idleLitresPerHour: 0.9,
          monthlyAllocationLitres: 250,
        },
      })
    ).json()) as { id: string };
    const res = await api('/api/v1/devices', { method: 'POST', json: { id: 'dh-1-a', vehicleId: veh.id } });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; secret: string; mqtt: { username: string; topic: string } };
    expect(created.mqtt).toEqual({ username: 'dh-1-a', topic: 'fleet/v1/devices/dh-1-a/telemetry' });
    device = { id: created.id, secret: created.secret, vehicleId: veh.id };

    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      username: device.id,
      password: device.secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    const ts = new Date(Date.now() - 2000).toISOString();
    await client.publishAsync(created.mqtt.topic, JSON.stringify({ ts, lat: -10.1702, lon: 123.6078, speedKmh: 12, ignition: true }), {
      qos: 1,
    });
    await client.endAsync();
    const latest = await waitFor(async () => {
      const rows = (await (await api('/api/v1/positions/latest')).json()) as Array<{ vehicleId: string; at: string }>;
      return rows.find((r) => r.vehicleId === device.vehicleId);
    }, 'the position in positions/latest');
    expect(latest.at).toBe(ts);
  });

  it('refuses a wrong secret and anonymous devices', async () => {
    await expect(
      mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: device.id, password: 'wrong', protocolVersion: 4, reconnectPeriod: 0 }),
    ).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 4, reconnectPeriod: 0 })).rejects.toThrow();
  });

  it("does not let a device publish to another device's topic or subscribe", async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      username: device.id,
      password: device.secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    // aedes closes the connection of a client whose publish was refused.
    client.publish(telemetryTopic('someone-else'), JSON.stringify({ ts: new Date().toISOString(), lat: -10.2, lon: 123.6 }), { qos: 1 });
    await closed;
    client.end(true);
    const listener = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      username: device.id,
      password: device.secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    // SUBACK 0x80: MQTT.js turns the refusal into an error; the connection stays up.
    await expect(listener.subscribeAsync('fleet/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    expect(listener.connected).toBe(true);
    await listener.endAsync();
  });

  it("ends a device's open connection when its secret is rotated, and takes only the new one", async () => {
    const connect = (password: string) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: device.id, password, protocolVersion: 4, reconnectPeriod: 0 });
    const open = await connect(device.secret);
    const closed = new Promise<void>((resolve) => open.once('close', () => resolve()));
    const res = await api(`/api/v1/devices/${encodeURIComponent(device.id)}/rotate-secret`, { method: 'POST' });
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as { secret: string };
    await closed;
    open.end(true);
    await expect(connect(device.secret)).rejects.toThrow(/Bad username or password|Not authorized/i);
    const again = await connect(rotated.secret);
    await again.endAsync();
    device = { ...device, secret: rotated.secret };
  });

  it('stops a second process on the same DATA_DIR with a clear message', async () => {
    const second = runCli('start', { ...env(), HTTP_PORT: String(await freePort()), MQTT_PORT: String(await freePort()) });
    expect(await second.exited).toBe(2);
    expect(second.output()).toContain('is in use by another Armada process');
    expect(second.output()).toContain('DATA_DIR');
  });

  it('stops cleanly on SIGTERM, releases the data directory, and keeps the data for the next start', async () => {
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(existsSync(join(dataDir, 'armada.lock'))).toBe(false);
    service = runCli('start', env());
    await ready();
    const rows = (await (await api('/api/v1/positions/latest')).json()) as Array<{ vehicleId: string }>;
    expect(rows.map((r) => r.vehicleId)).toContain(device.vehicleId);
  });

  it('names the port when the MQTT port is taken', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    const dir = mkdtempSync(join(tmpdir(), 'armada-port-'));
    try {
      const p = runCli('start', { DATA_DIR: dir, HTTP_PORT: String(await freePort()), MQTT_PORT: String(port) });
      expect(await p.exited).toBe(2);
      expect(p.output()).toContain(`Port ${port} (MQTT_PORT) is already in use`);
      expect(p.output()).toContain('MQTT_PORT');
      expect(p.output()).toContain('MQTT_URL');
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('migrates a fresh data directory with the migrate command, and again harmlessly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'armada-migrate-'));
    try {
      for (let run = 0; run < 2; run++) {
        const p = runCli('migrate', { DATA_DIR: dir, LOG_LEVEL: 'info' });
        expect(await p.exited, p.output()).toBe(0);
        expect(p.output()).toContain('migrations applied');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops on bad configuration, naming each bad variable', async () => {
    const p = runCli('start', { DATA_DIR: dataDir, HTTP_PORT: 'eighty', REPORT_TZ: 'Nowhere/Land' });
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain('HTTP_PORT');
    expect(p.output()).toContain('REPORT_TZ');
    expect(p.output()).not.toContain('    at '); // no stack trace for a user's mistake
  });
});
