/**
 * A real drive replayed through MQTT (tests/fixtures/tracks/around-visnjan-with-car.gpx,
 * 104 fixes, about 2.73 km, one stop of about two minutes) comes out of the trip, stop and
 * fuel endpoints as a person reads it off the track.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpxReplay, parseGpx } from '../../simulator/gpx.js';
import { connectDevice, registerVehicleWithDevice, startTestService, waitFor, type TestService } from '../support/service.js';
import { GPX_FIXTURE } from '../support/fixtures.js';
import { useTestClock } from '../support/test-clock.js';

// The drive is replayed an hour before now and read back by report period: a fixed clock,
// and `npm run test:dates` tries several (one where the drive crosses midnight).
useTestClock();

const FIXTURE = GPX_FIXTURE;

let t: TestService;

beforeAll(async () => {
  t = await startTestService();
});

afterAll(async () => {
  await t?.close();
});

describe('the Visnjan drive through MQTT', () => {
  it('gives its length, its two trips and the stop between them', async () => {
    const d = await registerVehicleWithDevice(t, { plate: 'DH 2730 GP' });
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 3600_000;
    const { messages } = gpxReplay(parseGpx(readFileSync(FIXTURE, 'utf8')), { deviceId: d.deviceId, format: 'armada', shiftToMs: startMs });
    expect(messages).toHaveLength(104);
    const device = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
    for (const m of messages) await device.publishAsync(m.topic, JSON.stringify(m.payload), { qos: 1 });
    await device.endAsync();

    const period = `from=${new Date(startMs - 60_000).toISOString()}&to=${new Date(startMs + 3600_000).toISOString()}`;
    await waitFor(async () => {
      const res = await t.api(`/api/v1/vehicles/${d.vehicleId}/track?${period}`);
      return ((await res.json()) as { features: unknown[] }).features.length === 104;
    }, 'the 104 fixes stored');

    const fuel = (await (await t.api(`/api/v1/vehicles/${d.vehicleId}/fuel?${period}`)).json()) as {
      distanceKm: number;
      fuelSource: string;
    };
    expect(fuel.distanceKm).toBeGreaterThan(2.7);
    expect(fuel.distanceKm).toBeLessThan(2.76);
    expect(fuel.fuelSource).toBe('rated');

    const trips = (await (await t.api(`/api/v1/vehicles/${d.vehicleId}/trips?${period}`)).json()) as Array<{
      startAt: string;
      endAt: string;
      distanceKm: number;
    }>;
    const stops = (await (await t.api(`/api/v1/vehicles/${d.vehicleId}/stops?${period}`)).json()) as Array<{
      startAt: string;
      endAt: string;
      durationS: number;
      lat: number;
      lon: number;
    }>;
    expect(trips).toHaveLength(2);
    const between = stops.filter((s) => s.startAt >= trips[0]!.endAt && s.endAt <= trips[1]!.startAt);
    expect(between).toHaveLength(1);
    expect(between[0]!.durationS).toBeGreaterThanOrEqual(95);
    expect(between[0]!.durationS).toBeLessThanOrEqual(130);
    expect(between[0]!.lat).toBeCloseTo(45.2763, 3);
    expect(trips[0]!.distanceKm + trips[1]!.distanceKm).toBeGreaterThan(2.6);
  });
});
