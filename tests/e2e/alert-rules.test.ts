/**
 * Per-department alert rules through the API and the alert engine: an ambulance marked
 * exempt raises no outside-hours alert where a car of its department does; a department
 * with its own working hours is judged by them; only an admin changes the rules, only for
 * vehicles of the department; a department key sees only its department's rules.
 * The readings are stamped on the last Sunday before today at 02:00 WITA, outside the
 * default Mon-Fri 07:00-16:00 whatever the day the test runs.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/domain/topics.js';
import { connectDevice, registerVehicleWithDevice, startTestService, waitFor, type TestService } from '../support/service.js';

type Device = Awaited<ReturnType<typeof registerVehicleWithDevice>>;
type Alert = { id: number; kind: string; vehicleId: string };

let t: TestService;
let car: Device;
let ambulance: Device;
let weekendCrew: Device;

/** 02:00 WITA (18:00 UTC the day before) on the last Sunday at least a day before now. */
function lastSundayNightMs(): number {
  const witaNow = new Date(Date.now() + 8 * 3_600_000 - 86_400_000);
  const daysBack = witaNow.getUTCDay(); // 0 = Sunday
  const sunday = Date.UTC(witaNow.getUTCFullYear(), witaNow.getUTCMonth(), witaNow.getUTCDate() - daysBack);
  return sunday + 2 * 3_600_000 - 8 * 3_600_000;
}

async function vehicleInDepartment(departmentId: string, kind: string): Promise<Device> {
  const suffix = randomBytes(3).toString('hex');
  const res = await t.api('/api/v1/vehicles', {
    method: 'POST',
    json: {
      plateNumber: `DH A${suffix}`,
      departmentId,
      kind,
      fuelType: 'dexlite',
      tankCapacityLitres: 70,
      ratedLitresPer100Km: 12,
      idleLitresPerHour: 1,
      monthlyAllocationLitres: 300,
    },
  });
  const veh = (await res.json()) as { id: string };
  const dev = (await (await t.api('/api/v1/devices', { method: 'POST', json: { id: `amb-${suffix}`, vehicleId: veh.id } })).json()) as {
    id: string;
    secret: string;
  };
  return { departmentId, vehicleId: veh.id, deviceId: dev.id, secret: dev.secret };
}

async function driveAt(d: Device, atMs: number) {
  const c = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
  const readings = [0, 30, 60].map((s) => ({
    ts: new Date(atMs + s * 1000).toISOString(),
    lat: -10.17,
    lon: 123.6 + s / 100_000,
    speedKmh: 40,
    ignition: true,
  }));
  await c.publishAsync(telemetryTopic(d.deviceId), JSON.stringify(readings), { qos: 1 });
  await c.endAsync();
  const from = new Date(atMs - 1000).toISOString();
  await waitFor(
    async () =>
      (
        (await (await t.api(`/api/v1/vehicles/${d.vehicleId}/track?from=${from}&to=${new Date(atMs + 120_000).toISOString()}`)).json()) as {
          features: unknown[];
        }
      ).features.length === 3,
    'the readings stored',
  );
}

const outsideHoursAlerts = async (vehicleId: string, fromMs: number) =>
  (await (
    await t.api(`/api/v1/alerts?vehicleId=${vehicleId}&kind=outside_working_hours&from=${new Date(fromMs - 3_600_000).toISOString()}`)
  ).json()) as Alert[];

beforeAll(async () => {
  t = await startTestService({ env: { WORKING_HOURS: 'Mon-Fri 07:00-16:00', SPEED_LIMIT_KMH: '100' } });
  car = await registerVehicleWithDevice(t);
  ambulance = await vehicleInDepartment(car.departmentId, 'ambulance');
  weekendCrew = await registerVehicleWithDevice(t);
});

afterAll(async () => {
  await t?.close();
});

describe('alert rules', () => {
  it('only an admin sets them, only for vehicles of the department; a department key sees only its own', async () => {
    const manager = (
      (await (
        await t.api('/api/v1/api-keys', { method: 'POST', json: { name: 'm', role: 'manager', departmentId: car.departmentId } })
      ).json()) as { key: string }
    ).key;
    const body = { workingHours: null, exemptVehicleIds: [ambulance.vehicleId] };
    expect((await t.api(`/api/v1/departments/${car.departmentId}/alert-rules`, { method: 'PUT', key: manager, json: body })).status).toBe(
      403,
    );
    const foreign = await t.api(`/api/v1/departments/${car.departmentId}/alert-rules`, {
      method: 'PUT',
      json: { workingHours: null, exemptVehicleIds: [weekendCrew.vehicleId] },
    });
    expect(foreign.status).toBe(400);
    const backwards = await t.api(`/api/v1/departments/${weekendCrew.departmentId}/alert-rules`, {
      method: 'PUT',
      json: { workingHours: { weekdays: [7], start: '16:00', end: '07:00' }, exemptVehicleIds: [] },
    });
    expect(backwards.status).toBe(400);

    const ok = await t.api(`/api/v1/departments/${car.departmentId}/alert-rules`, { method: 'PUT', json: body });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ departmentId: car.departmentId, workingHours: null, exemptVehicleIds: [ambulance.vehicleId] });
    const own = await t.api(`/api/v1/departments/${weekendCrew.departmentId}/alert-rules`, {
      method: 'PUT',
      json: { workingHours: { weekdays: [6, 7], start: '00:00', end: '24:00' }, exemptVehicleIds: [] },
    });
    expect(own.status).toBe(200);

    const all = (await (await t.api('/api/v1/alert-rules')).json()) as {
      editable: boolean;
      defaultWorkingHours: unknown;
      departments: Array<{ departmentId: string }>;
    };
    expect(all.editable).toBe(true);
    expect(all.defaultWorkingHours).toEqual({ weekdays: [1, 2, 3, 4, 5], start: '07:00', end: '16:00' });
    expect(all.departments).toContainEqual({
      departmentId: weekendCrew.departmentId,
      workingHours: { weekdays: [6, 7], start: '00:00', end: '24:00' },
      exemptVehicleIds: [],
    });
    const scoped = (await (await t.api('/api/v1/alert-rules', { key: manager })).json()) as typeof all;
    expect(scoped.editable).toBe(false);
    expect(scoped.departments).toEqual([{ departmentId: car.departmentId, workingHours: null, exemptVehicleIds: [ambulance.vehicleId] }]);
  });

  it('an exempt ambulance raises no outside-hours alert, a car of its department does, and own working hours are used', async () => {
    const at = lastSundayNightMs();
    await driveAt(car, at);
    await driveAt(ambulance, at);
    await driveAt(weekendCrew, at);
    await t.services.ingest!.alerts.idle();
    await waitFor(async () => (await outsideHoursAlerts(car.vehicleId, at)).length === 1, "the car's outside-hours alert");
    await t.services.ingest!.alerts.idle();
    expect(await outsideHoursAlerts(ambulance.vehicleId, at)).toEqual([]);
    expect(await outsideHoursAlerts(weekendCrew.vehicleId, at)).toEqual([]);
  });
});
