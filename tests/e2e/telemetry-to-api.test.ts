/**
 * End to end: a device registered through the API publishes over MQTT, and its
 * positions come back out of `positions/latest` and `vehicles/{id}/track`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/domain/topics.js';
import { connectDevice, registerVehicleWithDevice, startTestService, waitFor, type TestService } from '../support/service.js';

let t: TestService;

beforeAll(async () => {
  t = await startTestService();
});

afterAll(async () => {
  await t?.close();
});

type Latest = {
  vehicleId: string;
  plateNumber: string;
  departmentId: string;
  at: string;
  lat: number;
  lon: number;
  speedKmh: number | null;
  fuelLitres: number | null;
  ignition: boolean | null;
  status: string;
};
type Track = {
  type: string;
  truncated: boolean;
  features: Array<{
    geometry: { coordinates: [number, number] };
    properties: { at: string; speedKmh: number | null; fuelLitres: number | null; ignition: boolean | null };
  }>;
};

describe('MQTT in, REST out', () => {
  it('shows a published position in positions/latest and the track', async () => {
    const d = await registerVehicleWithDevice(t, { plate: 'DH 1234 KP', tankCapacityLitres: 60 });
    const device = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
    const now = Date.now();
    const readings = [0, 1, 2].map((i) => ({
      ts: new Date(now - (3 - i) * 10_000).toISOString(),
      lat: -10.1702 - i * 0.001,
      lon: 123.6078 + i * 0.001,
      speedKmh: 30 + i,
      ignition: true,
      fuelPercent: 50,
    }));
    // Sent out of order: the newest first, then the two older ones as a buffered array.
    await device.publishAsync(telemetryTopic(d.deviceId), JSON.stringify(readings[2]), { qos: 1 });
    await device.publishAsync(telemetryTopic(d.deviceId), JSON.stringify(readings.slice(0, 2)), { qos: 1 });
    await device.endAsync();

    const track = await waitFor(async () => {
      const res = await t.api(`/api/v1/vehicles/${d.vehicleId}/track?from=${new Date(now - 3_600_000).toISOString()}`);
      const body = (await res.json()) as Track;
      return body.features.length === 3 ? body : null;
    }, 'three track points');
    expect(track.type).toBe('FeatureCollection');
    expect(track.truncated).toBe(false);
    expect(track.features.map((f) => f.properties.at)).toEqual(readings.map((r) => r.ts));
    expect(track.features[0]!.geometry.coordinates).toEqual([123.6078, -10.1702]);
    expect(track.features[2]!.properties).toMatchObject({ speedKmh: 32, ignition: true });

    const latest = (await (await t.api('/api/v1/positions/latest')).json()) as Latest[];
    const mine = latest.find((p) => p.vehicleId === d.vehicleId);
    expect(mine).toMatchObject({
      plateNumber: 'DH 1234 KP',
      departmentId: d.departmentId,
      at: readings[2]!.ts,
      lat: readings[2]!.lat,
      lon: readings[2]!.lon,
      speedKmh: 32,
      ignition: true,
      fuelLitres: 30, // 50 % of a 60 L tank
      status: 'moving',
    });
  });

  it('limits a track and says it was cut', async () => {
    const d = await registerVehicleWithDevice(t);
    const device = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
    const now = Date.now();
    const batch = Array.from({ length: 5 }, (_, i) => ({
      ts: new Date(now - (5 - i) * 1000).toISOString(),
      lat: -10.17,
      lon: 123.6 + i * 1e-4,
    }));
    await device.publishAsync(telemetryTopic(d.deviceId), JSON.stringify(batch), { qos: 1 });
    await device.endAsync();
    await waitFor(
      async () => ((await (await t.api(`/api/v1/vehicles/${d.vehicleId}/track`)).json()) as Track).features.length === 5,
      'five points',
    );
    const cut = (await (await t.api(`/api/v1/vehicles/${d.vehicleId}/track?limit=2`)).json()) as Track;
    expect(cut.features).toHaveLength(2);
    expect(cut.truncated).toBe(true);
  });

  it.skipIf(!existsSync('/usr/bin/mosquitto_pub'))('accepts a message published with mosquitto_pub', async () => {
    const d = await registerVehicleWithDevice(t);
    const url = new URL(t.deviceMqttUrl);
    const ts = new Date(Date.now() - 1000).toISOString();
    // Asynchronously: the embedded broker answering it lives in this very process.
    await promisify(execFile)(
      '/usr/bin/mosquitto_pub',
      [
        '-h',
        url.hostname,
        '-p',
        url.port || '1883',
        '-u',
        d.deviceId,
        '-P',
        d.secret,
        '-q',
        '1',
        '-V',
        'mqttv311',
        '-t',
        telemetryTopic(d.deviceId),
        '-m',
        JSON.stringify({ ts, lat: -10.18, lon: 123.59, speedKmh: 0, ignition: false }),
      ],
      { timeout: 10_000 },
    );
    const mine = await waitFor(async () => {
      const latest = (await (await t.api('/api/v1/positions/latest')).json()) as Latest[];
      return latest.find((p) => p.vehicleId === d.vehicleId);
    }, 'the mosquitto_pub position in positions/latest');
    expect(mine).toMatchObject({ at: ts, lat: -10.18, lon: 123.59, status: 'stopped' });
  });
});
