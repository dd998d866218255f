/**
 * Alerts end to end: a speeding vehicle and one leaving the city, published over MQTT,
 * come out stored, listed by GET /api/v1/alerts within the key's department, pushed
 * over the live feed, and acknowledged by a manager. A silent vehicle is reported once,
 * judged by what arrives (not the tracker's clock), and so is one that never reported.
 * A geofence added and changed through the API raises an exit for its department's
 * vehicles; bad geofences are refused with what is wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { telemetryTopic } from '../../src/domain/topics.js';
import { connectDevice, registerVehicleWithDevice, startTestService, type TestService, waitFor } from '../support/service.js';

let t: TestService;
let a: Awaited<ReturnType<typeof registerVehicleWithDevice>>;
let b: Awaited<ReturnType<typeof registerVehicleWithDevice>>;
/** A vehicle whose department has its own geofence, made through the API, and one of another department. */
let fenced: Awaited<ReturnType<typeof registerVehicleWithDevice>>;
let unfenced: Awaited<ReturnType<typeof registerVehicleWithDevice>>;
let depotId: string;

const square = (west: number, south: number, east: number, north: number) => ({
  type: 'Polygon',
  coordinates: [
    [
      [west, south],
      [east, south],
      [east, north],
      [west, north],
      [west, south],
    ],
  ],
});
/** Inside the city, around the city hall; a vehicle driving east to 123.65 leaves it but not the city. */
const DEPOT = square(123.58, -10.19, 123.62, -10.15);

type Alert = {
  id: number;
  kind: string;
  vehicleId: string;
  departmentId: string;
  message: string;
  acknowledgedAt: string | null;
  acknowledgedNote: string | null;
};

async function send(d: { deviceId: string; secret: string }, readings: object[]) {
  const c = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
  await c.publishAsync(telemetryTopic(d.deviceId), JSON.stringify(readings), { qos: 1 });
  await c.endAsync();
}
const alertsOf = async (key?: string) => (await (await t.api('/api/v1/alerts', key ? { key } : {})).json()) as Alert[];

beforeAll(async () => {
  t = await startTestService({ env: { SPEED_LIMIT_KMH: '60' } });
  a = await registerVehicleWithDevice(t);
  b = await registerVehicleWithDevice(t);
  fenced = await registerVehicleWithDevice(t);
  unfenced = await registerVehicleWithDevice(t);
  // Made and moved through the API before any reading is judged: the alert engine reads
  // the geofences when it judges its first batch (and every 30 s after).
  const created = await t.api('/api/v1/geofences', {
    method: 'POST',
    json: { name: 'Depot', departmentId: fenced.departmentId, geometry: square(124.2, -9.9, 124.3, -9.8) },
  });
  expect(created.status).toBe(201);
  depotId = ((await created.json()) as { id: string }).id;
  const moved = await t.api(`/api/v1/geofences/${depotId}`, { method: 'PATCH', json: { geometry: DEPOT } });
  expect(moved.status).toBe(200);
  expect(await moved.json()).toMatchObject({ id: depotId, name: 'Depot', departmentId: fenced.departmentId, geometry: DEPOT });
});

afterAll(async () => {
  await t?.close();
});

describe('alerts', () => {
  it('raises a fuel drain alert for a drain the rollup job found, once', async () => {
    const d = await registerVehicleWithDevice(t, { tankCapacityLitres: 60 });
    const start = Date.now() - 3 * 3_600_000;
    // Parked with the engine off: 40 L for an hour, 22 L drawn off over five minutes, 18 L for an hour.
    const readings = [];
    for (let s = 0; s <= 7800; s += 30) {
      const level = s < 3600 ? 40 : s < 3900 ? 40 - ((s - 3600) / 300) * 22 : 18;
      readings.push({
        ts: new Date(start + s * 1000).toISOString(),
        lat: -10.1702,
        lon: 123.6078,
        speedKmh: 0,
        ignition: false,
        fuelLitres: level,
      });
    }
    await send(d, readings);
    await waitFor(
      async () =>
        (
          (await (await t.api(`/api/v1/vehicles/${d.vehicleId}/track?from=${new Date(start - 1000).toISOString()}`)).json()) as {
            features: unknown[];
          }
        ).features.length === readings.length,
      'the readings',
    );
    // The rollup job finds vehicles by their trackers' last-seen time, written behind the readings.
    await t.services.ingest!.idle();
    await t.services.rollups.runOnce();
    await t.services.ingest!.alerts.checkPeriodic();
    await t.services.rollups.runOnce();
    await t.services.ingest!.alerts.checkPeriodic();
    const drains = (await alertsOf()).filter((x) => x.vehicleId === d.vehicleId && x.kind === 'fuel_drain');
    expect(drains).toHaveLength(1);
    expect(drains[0]!.message).toMatch(/2\d\.\d L drained/);
  });

  it('stores, lists and pushes a speeding alert, and a manager acknowledges it', async () => {
    const feed = new WebSocket(`${t.services.httpUrl!.replace('http', 'ws')}/api/v1/live`, {
      headers: { authorization: `Bearer ${t.adminKey}` },
    });
    const pushed: Array<{ type: string; kind?: string; vehicleId?: string }> = [];
    feed.on('message', (m) => pushed.push(JSON.parse(m.toString())));
    await new Promise((r) => feed.once('open', r));
    await waitFor(async () => pushed.some((m) => m.type === 'snapshot'), 'the snapshot');

    const now = Date.now();
    await send(
      a,
      [0, 10, 20, 30].map((s, i) => ({
        ts: new Date(now - 60_000 + s * 1000).toISOString(),
        lat: -10.17 - i * 0.002,
        lon: 123.6,
        speedKmh: [40, 75, 82, 50][i],
        ignition: true,
      })),
    );
    const [speeding] = await waitFor(async () => {
      const list = (await alertsOf()).filter((x) => x.vehicleId === a.vehicleId && x.kind === 'speeding');
      return list.length > 0 ? list : null;
    }, 'the speeding alert');
    expect(speeding!.message).toContain('75 km/h');
    expect((await alertsOf()).filter((x) => x.vehicleId === a.vehicleId && x.kind === 'speeding')).toHaveLength(1);
    await waitFor(
      async () => pushed.some((m) => m.type === 'alert' && m.kind === 'speeding' && m.vehicleId === a.vehicleId),
      'the alert on the live feed',
    );
    feed.close();

    const manager = (
      (await (
        await t.api('/api/v1/api-keys', { method: 'POST', json: { name: 'm', role: 'manager', departmentId: a.departmentId } })
      ).json()) as { key: string }
    ).key;
    const viewer = (
      (await (
        await t.api('/api/v1/api-keys', { method: 'POST', json: { name: 'v', role: 'viewer', departmentId: a.departmentId } })
      ).json()) as { key: string }
    ).key;
    expect((await t.api(`/api/v1/alerts/${speeding!.id}/acknowledge`, { method: 'POST', key: viewer, json: {} })).status).toBe(403);
    const ack = await t.api(`/api/v1/alerts/${speeding!.id}/acknowledge`, {
      method: 'POST',
      key: manager,
      json: { note: 'driver warned' },
    });
    expect(ack.status).toBe(200);
    expect((await ack.json()) as Alert).toMatchObject({ id: speeding!.id, acknowledgedNote: 'driver warned' });
    expect((await alertsOf()).find((x) => x.id === speeding!.id)!.acknowledgedAt).not.toBeNull();
  });

  it('acknowledges an alert sent with no body at all, or with an empty JSON body: the note is optional', async () => {
    const stored = await t.services.repos.alerts.insertMany(
      [1, 2].map((i) => ({
        kind: 'speeding' as const,
        vehicleId: a.vehicleId,
        departmentId: a.departmentId,
        atMs: Date.now() - i * 1000,
        lat: -10.18,
        lon: 123.6,
        message: `probe ${i}`,
        details: {},
      })),
    );
    const [noBody, emptyJson] = stored.map((x) => x.id);
    const headers = { authorization: `Bearer ${t.adminKey}` };
    const bare = await fetch(`${t.services.httpUrl}/api/v1/alerts/${noBody}/acknowledge`, { method: 'POST', headers });
    expect(bare.status, await bare.clone().text()).toBe(200);
    expect((await bare.json()) as Alert).toMatchObject({ id: noBody, acknowledgedNote: null, acknowledgedAt: expect.any(String) });
    const json = { 'content-type': 'application/json' };
    const empty = await t.api(`/api/v1/alerts/${emptyJson}/acknowledge`, { method: 'POST', body: '', headers: json });
    expect(empty.status, await empty.clone().text()).toBe(200);
    expect((await empty.json()) as Alert).toMatchObject({ id: emptyJson, acknowledgedNote: null, acknowledgedAt: expect.any(String) });
    // A body that is not JSON is still refused.
    expect((await t.api(`/api/v1/alerts/${emptyJson}/acknowledge`, { method: 'POST', body: '{"note":', headers: json })).status).toBe(400);
  });

  it('raises a geofence exit when a vehicle leaves the city, visible only to its department', async () => {
    const now = Date.now();
    await send(b, [
      { ts: new Date(now - 600_000).toISOString(), lat: -10.2, lon: 123.65, speedKmh: 50, ignition: true },
      { ts: new Date(now - 300_000).toISOString(), lat: -10.26, lon: 123.7, speedKmh: 55, ignition: true },
      { ts: new Date(now - 60_000).toISOString(), lat: -10.3, lon: 123.76, speedKmh: 55, ignition: true },
    ]);
    await waitFor(
      async () => (await alertsOf()).some((x) => x.vehicleId === b.vehicleId && x.kind === 'geofence_exit'),
      'the geofence exit',
    );
    const keyA = (
      (await (
        await t.api('/api/v1/api-keys', { method: 'POST', json: { name: 'va', role: 'viewer', departmentId: a.departmentId } })
      ).json()) as { key: string }
    ).key;
    const seenByA = await alertsOf(keyA);
    expect(seenByA.length).toBeGreaterThan(0);
    expect(seenByA.every((x) => x.departmentId === a.departmentId)).toBe(true);
    const geofences = (await (await t.api('/api/v1/geofences')).json()) as Array<{ name: string }>;
    expect(geofences.map((g) => g.name)).toContain('Kota Kupang');
  });

  it("raises a geofence exit for a geofence made through the API, for its department's vehicles only", async () => {
    const now = Date.now();
    // In the depot, then east out of it (still in the city).
    const drive = [
      { ts: new Date(now - 180_000).toISOString(), lat: -10.17, lon: 123.6, speedKmh: 30, ignition: true },
      { ts: new Date(now - 120_000).toISOString(), lat: -10.17, lon: 123.63, speedKmh: 30, ignition: true },
      { ts: new Date(now - 60_000).toISOString(), lat: -10.17, lon: 123.65, speedKmh: 30, ignition: true },
    ];
    // The same drive by a vehicle of another department first: batches are judged in order,
    // so once the fenced vehicle's alert is there, this one has been judged too.
    await send(unfenced, drive);
    await waitFor(
      async () =>
        (
          (await (await t.api(`/api/v1/vehicles/${unfenced.vehicleId}/track?from=${new Date(now - 600_000).toISOString()}`)).json()) as {
            features: unknown[];
          }
        ).features.length === 3,
      "the other department's readings",
    );
    await send(fenced, drive);
    const exit = await waitFor(
      async () => (await alertsOf()).find((x) => x.vehicleId === fenced.vehicleId && x.kind === 'geofence_exit'),
      'the depot exit',
    );
    expect(exit).toMatchObject({ departmentId: fenced.departmentId, message: expect.stringContaining('left Depot') });
    expect((exit as Alert & { details: Record<string, unknown> }).details).toMatchObject({ geofenceId: depotId, geofenceName: 'Depot' });
    expect((exit as Alert & { at: string }).at).toBe(drive[1]!.ts);
    expect(
      (await alertsOf()).filter(
        (x) => x.kind === 'geofence_exit' && (x.vehicleId === unfenced.vehicleId || x.vehicleId === fenced.vehicleId),
      ),
    ).toHaveLength(1);
  });

  it('limits geofences: positions per geometry (400), geofences per department (409); lists them a page at a time', async () => {
    const depRes = await t.api('/api/v1/departments', { method: 'POST', json: { code: 'FENCES', name: 'Many fences' } });
    const dep = (await depRes.json()) as { id: string };
    const box = square(123.5, -10.2, 123.7, -10.1);
    const addFence = (name: string, departmentId: string, geometry: unknown) =>
      t.api('/api/v1/geofences', { method: 'POST', json: { name, departmentId, geometry } });
    // A circle of 10,001 positions (and so 10,002 with the closing one) is refused; one of 9,999 is taken.
    const circle = (n: number) => {
      const angle = (i: number) => (2 * Math.PI * i) / n;
      const ring = Array.from({ length: n }, (_, i) => [123.6 + 0.05 * Math.cos(angle(i)), -10.2 + 0.05 * Math.sin(angle(i))]);
      return { type: 'Polygon', coordinates: [[...ring, ring[0]]] };
    };
    const big = await addFence('big', dep.id, circle(10_001));
    expect(big.status).toBe(400);
    expect(((await big.json()) as { error: { message: string } }).error.message).toMatch(/at most 10000 positions/);
    const fine = await addFence('fence 000', dep.id, circle(9_999));
    expect(fine.status).toBe(201);
    for (let i = 1; i < 100; i++) {
      const res = await addFence(`fence ${String(i).padStart(3, '0')}`, dep.id, box);
      expect(res.status, `fence ${i}`).toBe(201);
    }
    const full = await addFence('one too many', dep.id, box);
    expect(full.status).toBe(409);
    const fullError = ((await full.json()) as { error: { code: string; message: string } }).error;
    expect(fullError).toMatchObject({ code: 'conflict', message: expect.stringContaining('100') });
    // Another department is not affected.
    const elsewhere = await addFence('elsewhere', a.departmentId, box);
    expect(elsewhere.status).toBe(201);

    // Pages of a department key's view, by name: no geofence twice, none missed.
    const keyRes = await t.api('/api/v1/api-keys', { method: 'POST', json: { name: 'fences', role: 'viewer', departmentId: dep.id } });
    const { key } = (await keyRes.json()) as { key: string };
    const all = (await (await t.api('/api/v1/geofences?limit=1000', { key })).json()) as Array<{ id: string; name: string }>;
    const paged: Array<{ id: string }> = [];
    for (let offset = 0; ; offset += 30) {
      const page = (await (await t.api(`/api/v1/geofences?limit=30&offset=${offset}`, { key })).json()) as Array<{ id: string }>;
      paged.push(...page);
      if (page.length < 30) break;
    }
    expect(paged.map((g) => g.id)).toEqual(all.map((g) => g.id));
    expect(all.filter((g) => g.name.startsWith('fence '))).toHaveLength(100);
    expect((await t.api('/api/v1/geofences?limit=0')).status).toBe(400);
    expect((await t.api('/api/v1/geofences?limit=1001')).status).toBe(400);
    // Removed again, so the tests after judge readings with the geofences they expect.
    const added = [...all.filter((x) => x.name.startsWith('fence ')).map((g) => g.id), ((await elsewhere.json()) as { id: string }).id];
    for (const id of added) expect((await t.api(`/api/v1/geofences/${id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('refuses a bad geofence with a 400 that says what is wrong, and changes nothing', async () => {
    const before = await (await t.api(`/api/v1/geofences`)).text();
    const problems: Array<[string, unknown, RegExp]> = [
      ['a point', { geometry: { type: 'Point', coordinates: [123.6, -10.17] } }, /body\.geometry\.type: .*Polygon/],
      [
        'an open ring',
        {
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [123.5, -10.2],
                [123.7, -10.2],
                [123.7, -10.1],
                [123.5, -10.1],
              ],
            ],
          },
        },
        /body\.geometry\.coordinates\.0: a ring must end where it starts/,
      ],
      [
        'a ring of three positions',
        {
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [123.5, -10.2],
                [123.7, -10.2],
                [123.5, -10.2],
              ],
            ],
          },
        },
        /body\.geometry\.coordinates\.0: .*>=4/,
      ],
      [
        'a ring without area',
        {
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [123.5, -10.2],
                [123.6, -10.2],
                [123.7, -10.2],
                [123.5, -10.2],
              ],
            ],
          },
        },
        /body\.geometry\.coordinates\.0: a ring must enclose an area/,
      ],
      [
        'a flat polygon of a MultiPolygon',
        {
          geometry: {
            type: 'MultiPolygon',
            coordinates: [
              DEPOT.coordinates,
              [
                [
                  [123.5, -10.2],
                  [123.5, -10.2],
                  [123.5, -10.2],
                  [123.5, -10.2],
                ],
              ],
            ],
          },
        },
        /body\.geometry\.coordinates\.1\.0: a ring must enclose an area/,
      ],
      [
        'latitude and longitude swapped',
        { geometry: square(-10.19, 123.58, -10.15, 123.62) },
        /body\.geometry\.coordinates\.0\.0\.1: .*90/,
      ],
      ['a department (it cannot be moved)', { departmentId: b.departmentId }, /departmentId/],
      ['nothing to change', {}, /give `name`, `geometry` or both/],
      ['an empty name', { name: ' ' }, /body\.name/],
    ];
    for (const [what, body, message] of problems) {
      const res = await t.api(`/api/v1/geofences/${depotId}`, { method: 'PATCH', json: body });
      expect(res.status, what).toBe(400);
      const error = ((await res.json()) as { error: { code: string; message: string } }).error;
      expect(error.code, what).toBe('validation_failed');
      expect(error.message, what).toMatch(message);
      if (what !== 'a department (it cannot be moved)' && what !== 'nothing to change' && what !== 'an empty name') {
        // The same check when a geofence is added.
        const post = await t.api('/api/v1/geofences', {
          method: 'POST',
          json: { name: 'bad', departmentId: fenced.departmentId, ...(body as object) },
        });
        expect(post.status, `POST ${what}`).toBe(400);
        expect(((await post.json()) as { error: { message: string } }).error.message, `POST ${what}`).toMatch(message);
      }
    }
    expect(await (await t.api(`/api/v1/geofences`)).text()).toBe(before);
    expect((await t.api('/api/v1/geofences/00000000-0000-4000-8000-000000000000', { method: 'PATCH', json: { name: 'x' } })).status).toBe(
      404,
    );
    const renamed = await t.api(`/api/v1/geofences/${depotId}`, { method: 'PATCH', json: { name: '  Depot Oeba ' } });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({ id: depotId, name: 'Depot Oeba', geometry: DEPOT });
  });

  it('judges the very next readings with a geofence just added or moved here, and a moved fence is not a "leave"', async () => {
    const v = await registerVehicleWithDevice(t);
    const start = Date.now() - 2 * 3_600_000;
    // Ten minutes apart: the moves below stay far under the GPS-jump limit.
    const at = (step: number, lat: number, lon: number) => ({
      ts: new Date(start + step * 600_000).toISOString(),
      lat,
      lon,
      speedKmh: 20,
      ignition: true,
    });
    const stored = (n: number) =>
      waitFor(
        async () =>
          (
            (await (await t.api(`/api/v1/vehicles/${v.vehicleId}/track?from=${new Date(start - 1000).toISOString()}`)).json()) as {
              features: unknown[];
            }
          ).features.length === n,
        `${n} readings`,
      );
    /** Sends, waits until stored and judged, and answers this vehicle's exits of the yard. */
    const drive = async (readings: object[], total: number) => {
      await send(v, readings);
      await stored(total);
      await t.services.ingest!.alerts.idle();
      return (await alertsOf()).filter((x) => x.vehicleId === v.vehicleId && x.kind === 'geofence_exit' && x.message.includes('Yard'));
    };
    // The engine has just read the geofences (it judged this reading); the yard comes after.
    expect(await drive([at(0, -10.17, 123.6)], 1)).toHaveLength(0);
    const yard = await t.api('/api/v1/geofences', {
      method: 'POST',
      json: { name: 'Yard', departmentId: v.departmentId, geometry: square(123.59, -10.18, 123.61, -10.16) },
    });
    expect(yard.status).toBe(201);
    const yardId = ((await yard.json()) as { id: string }).id;
    // In the yard, then out: one exit, judged with the yard at once (not 30 s later).
    expect(await drive([at(1, -10.17, 123.6), at(2, -10.17, 123.64)], 3)).toHaveLength(1);
    // Back in; then the yard is moved away while the vehicle stands still. It never left.
    expect(await drive([at(3, -10.17, 123.6)], 4)).toHaveLength(1);
    expect(
      (await t.api(`/api/v1/geofences/${yardId}`, { method: 'PATCH', json: { geometry: square(123.7, -10.18, 123.72, -10.16) } })).status,
    ).toBe(200);
    expect(await drive([at(4, -10.17, 123.6), at(5, -10.17, 123.6)], 6)).toHaveLength(1);
    // Into the moved yard and out of it: a real exit again.
    expect(await drive([at(6, -10.17, 123.71), at(7, -10.17, 123.75)], 8)).toHaveLength(2);
  });

  it("reports a silent vehicle once: by what arrives, not by the tracker's clock, and one that never reported", async () => {
    // A service of its own whose clock the test moves (DEVICE_SILENT_AFTER_S is an hour).
    let offsetMs = 0;
    const s = await startTestService({ now: () => new Date(Date.now() + offsetMs) });
    try {
      const silentOf = async () =>
        ((await (await s.api('/api/v1/alerts')).json()) as Array<Alert & { details: Record<string, unknown> }>).filter(
          (x) => x.kind === 'device_silent',
        );
      const reporting = await registerVehicleWithDevice(s);
      const wrongClock = await registerVehicleWithDevice(s);
      const neverReported = await registerVehicleWithDevice(s);
      const publish = async (d: { deviceId: string; secret: string }, fixAgoMs: number) => {
        const c = await connectDevice(s.deviceMqttUrl, d.deviceId, d.secret);
        await c.publishAsync(
          telemetryTopic(d.deviceId),
          JSON.stringify({ ts: new Date(Date.now() - fixAgoMs).toISOString(), lat: -10.17, lon: 123.6 }),
          { qos: 1 },
        );
        await c.endAsync();
      };
      await publish(reporting, 0);
      // Its clock is three hours behind: every fix it sends looks three hours old.
      await publish(wrongClock, 3 * 3_600_000);
      const stored = async (vehicleId: string) =>
        (
          (await (
            await s.api(`/api/v1/vehicles/${vehicleId}/track?from=${new Date(Date.now() - 4 * 3_600_000).toISOString()}`)
          ).json()) as { features: unknown[] }
        ).features.length === 1;
      await waitFor(async () => (await stored(reporting.vehicleId)) && (await stored(wrongClock.vehicleId)), 'both readings');
      // Silence is judged by the trackers' last-seen time, written behind the readings.
      await s.services.ingest!.idle();

      // Now: both just sent something, and the third was registered a moment ago.
      await s.services.ingest!.alerts.checkPeriodic();
      expect(await silentOf()).toEqual([]);

      // Two hours later, nothing more has come from any of them.
      offsetMs = 2 * 3_600_000;
      await s.services.ingest!.alerts.checkPeriodic();
      await s.services.ingest!.alerts.checkPeriodic();
      const silent = await silentOf();
      expect(silent.map((x) => x.vehicleId).sort()).toEqual([reporting.vehicleId, wrongClock.vehicleId, neverReported.vehicleId].sort());
      const never = silent.find((x) => x.vehicleId === neverReported.vehicleId)!;
      expect(never.message).toMatch(/has delivered no usable reading since its tracker was registered/);
      expect(never.details).toMatchObject({ lastSeenAt: null, lastFixAt: null });
      const heard = silent.find((x) => x.vehicleId === reporting.vehicleId)!;
      expect(heard.message).toMatch(/has delivered no usable reading since \d{4}-/);
      expect(heard.details.lastSeenAt).not.toBeNull();
    } finally {
      await s.close();
    }
  });
});
