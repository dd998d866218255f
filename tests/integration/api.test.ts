/** The REST API's rules: authentication, roles, department scope, validation and errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerVehicleWithDevice, startTestService, type TestService } from '../support/service.js';

let t: TestService;
let a: Awaited<ReturnType<typeof registerVehicleWithDevice>>;
let b: Awaited<ReturnType<typeof registerVehicleWithDevice>>;
const keys: Record<string, string> = {};

async function issueKey(role: string, departmentId?: string): Promise<string> {
  const res = await t.api('/api/v1/api-keys', {
    method: 'POST',
    json: { name: `${role} key`, role, ...(departmentId ? { departmentId } : {}) },
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { key: string; keyPrefix: string };
  expect(body.key.startsWith(body.keyPrefix)).toBe(true);
  return body.key;
}

beforeAll(async () => {
  t = await startTestService({ roles: { api: true, worker: false }, listen: false });
  a = await registerVehicleWithDevice(t, { plate: 'DH 1001 A' });
  b = await registerVehicleWithDevice(t, { plate: 'DH 2002 B' });
  keys.viewerA = await issueKey('viewer', a.departmentId);
  keys.managerA = await issueKey('manager', a.departmentId);
  keys.finance = await issueKey('finance');
});

afterAll(async () => {
  await t?.close();
});

describe('authentication', () => {
  it('answers 401 without a key, with a wrong key, and with a malformed header', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: 'Basic abc' }] as Array<Record<string, string>>) {
      const res = await t.fetch(`/api/v1/vehicles`, { headers });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
      expect(body.error.code).toBe('unauthorized');
      expect(body.error.requestId).toBeTruthy();
    }
  });

  it('keeps health endpoints open', async () => {
    expect((await t.fetch(`/healthz`)).status).toBe(200);
    const ready = await t.fetch(`/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; checks: Record<string, boolean> };
    expect(body.status).toBe('ready');
    expect(body.checks.database).toBe(true);
    // With a broker configured, this API instance also listens to the live topics.
    expect(Object.keys(body.checks).sort()).toEqual(t.services.config.mqttUrl ? ['database', 'live'] : ['database']);
  });

  it("serves /metrics with every name Armada's and none doubled (armada_process_cpu_seconds_total, not armada_process_process_…)", async () => {
    await t.fetch('/healthz'); // so the request counter has a series
    const text = await (await t.fetch('/metrics')).text();
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
    expect(names).toContain('armada_process_cpu_seconds_total');
    expect(names).toContain('armada_http_requests_total');
    for (const name of names) {
      expect(name).toMatch(/^armada_/);
      const words = name.split('_');
      expect(
        words.some((w, i) => i > 0 && w === words[i - 1]),
        name,
      ).toBe(false);
    }
  });

  it('publishes the OpenAPI document', async () => {
    const res = await t.fetch(`/docs/json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/vehicles', '/api/v1/devices', '/api/v1/positions/latest', '/api/v1/vehicles/{id}/track']),
    );
    // Every API route documents the answers any request may get; the new fields and parameters are there.
    type Op = {
      responses: Record<string, unknown>;
      parameters?: Array<{ name: string }>;
      requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
    };
    const paths = doc.paths as Record<string, Record<string, Op>>;
    for (const [path, ops] of Object.entries(paths).filter(([p]) => p.startsWith('/api/v1/'))) {
      for (const [method, op] of Object.entries(ops)) {
        expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['401', '429', '503']));
      }
    }
    const keyBody = paths['/api/v1/api-keys']!.post!.requestBody!.content['application/json']!.schema;
    expect(Object.keys(keyBody.properties)).toContain('expiresAt');
    expect(paths['/api/v1/geofences']!.get!.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['limit', 'offset']));
    expect(Object.keys(paths['/api/v1/geofences']!.post!.responses)).toContain('409');
  });
});

describe('roles and department scope', () => {
  it('shows a department-limited key only its own department and vehicles', async () => {
    const deps = (await (await t.api('/api/v1/departments', { key: keys.viewerA })).json()) as Array<{ id: string }>;
    expect(deps.map((d) => d.id)).toEqual([a.departmentId]);
    const vehicles = (await (await t.api('/api/v1/vehicles', { key: keys.viewerA })).json()) as Array<{ id: string }>;
    expect(vehicles.map((v) => v.id)).toEqual([a.vehicleId]);
  });

  it("answers 404 for another department's vehicle, its track and its devices", async () => {
    for (const path of [
      `/api/v1/vehicles/${b.vehicleId}`,
      `/api/v1/vehicles/${b.vehicleId}/track`,
      `/api/v1/vehicles/${b.vehicleId}/devices`,
    ]) {
      const res = await t.api(path, { key: keys.viewerA });
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain(b.vehicleId);
    }
    const patch = await t.api(`/api/v1/vehicles/${b.vehicleId}`, { method: 'PATCH', key: keys.managerA, json: { tankCapacityLitres: 60 } });
    expect(patch.status).toBe(404);
  });

  it('lets a manager change vehicles of its department but not move one to another', async () => {
    const ok = await t.api(`/api/v1/vehicles/${a.vehicleId}`, { method: 'PATCH', key: keys.managerA, json: { speedLimitKmh: 70 } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { speedLimitKmh: number }).speedLimitKmh).toBe(70);
    const move = await t.api(`/api/v1/vehicles/${a.vehicleId}`, {
      method: 'PATCH',
      key: keys.managerA,
      json: { departmentId: b.departmentId },
    });
    expect(move.status).toBe(404);
  });

  it('no longer lets a manager change its own allocation or tank capacity (the audited must not set their baseline)', async () => {
    const before = (await (await t.api(`/api/v1/vehicles/${a.vehicleId}`)).json()) as Record<string, unknown>;
    for (const json of [{ monthlyAllocationLitres: 180 }, { tankCapacityLitres: 90 }, { tankCapacityLitres: 90, speedLimitKmh: 60 }]) {
      const res = await t.api(`/api/v1/vehicles/${a.vehicleId}`, { method: 'PATCH', key: keys.managerA, json });
      expect(res.status, JSON.stringify(json)).toBe(403);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/monthlyAllocationLitres|tankCapacityLitres/);
    }
    expect(await (await t.api(`/api/v1/vehicles/${a.vehicleId}`)).json()).toEqual(before);
    // An admin still may.
    const admin = await t.api(`/api/v1/vehicles/${a.vehicleId}`, { method: 'PATCH', json: { monthlyAllocationLitres: 180 } });
    expect(((await admin.json()) as { monthlyAllocationLitres: number }).monthlyAllocationLitres).toBe(180);
  });

  it('refuses writes to viewers and finance, and admin-only actions to managers', async () => {
    const vehicle = {
      plateNumber: 'DH 9 X',
      departmentId: a.departmentId,
      kind: 'car',
      fuelType: 'pertalite',
      tankCapacityLitres: 40,
      ratedLitresPer100Km: 9,
      idleLitresPerHour: 0.7,
      monthlyAllocationLitres: 100,
    };
    expect((await t.api('/api/v1/vehicles', { method: 'POST', key: keys.viewerA, json: vehicle })).status).toBe(403);
    expect((await t.api('/api/v1/vehicles', { method: 'POST', key: keys.finance, json: vehicle })).status).toBe(403);
    expect((await t.api('/api/v1/departments', { method: 'POST', key: keys.managerA, json: { code: 'X', name: 'X' } })).status).toBe(403);
    expect((await t.api('/api/v1/api-keys', { method: 'POST', key: keys.managerA, json: { name: 'x', role: 'admin' } })).status).toBe(403);
    expect((await t.api('/api/v1/quarantine', { key: keys.managerA })).status).toBe(403);
  });

  it('does not let a manager register a device on a vehicle of another department', async () => {
    const res = await t.api('/api/v1/devices', { method: 'POST', key: keys.managerA, json: { id: 'sneaky-1', vehicleId: b.vehicleId } });
    expect(res.status).toBe(404);
  });
});

describe('validation and conflicts', () => {
  it('answers 400 naming the bad fields', async () => {
    const res = await t.api('/api/v1/vehicles', {
      method: 'POST',
      json: { plateNumber: 'DH 1', departmentId: 'not-a-uuid', kind: 'spaceship', tankCapacityLitres: -1 },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; details: Array<{ field: string }> } };
    expect(body.error.code).toBe('validation_failed');
    const fields = body.error.details.map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['body.departmentId', 'body.kind', 'body.tankCapacityLitres', 'body.fuelType']));
  });

  it('answers 400, not 500, to a NUL character in a body string, a body key, a query value or a path parameter', async () => {
    const nulBodies: Array<[string, unknown]> = [
      ['/api/v1/departments', { code: 'NUL1', name: 'Bad\u0000name' }],
      ['/api/v1/departments', { code: 'NUL2', name: 'ok', 'x\u0000': 1 }],
      ['/api/v1/devices', { id: 'nul\u0000dev', vehicleId: a.vehicleId }],
    ];
    for (const [path, json] of nulBodies) {
      const res = await t.api(path, { method: 'POST', json });
      const text = await res.text();
      expect(res.status, text).toBe(400);
      const { error } = JSON.parse(text) as { error: { code: string; message: string } };
      expect(error).toMatchObject({ code: 'bad_request', message: expect.stringContaining('NUL') });
    }
    for (const path of ['/api/v1/quarantine?deviceId=dev%00ice', '/api/v1/devices/dev%00ice/rotate-secret', '/api/v1/vehicles?x=%00']) {
      const res = await t.api(path, { method: path.endsWith('rotate-secret') ? 'POST' : 'GET' });
      expect(res.status, `${path}: ${await res.clone().text()}`).toBe(400);
    }
    // Nothing was stored on the way.
    const departments = (await (await t.api('/api/v1/departments')).json()) as Array<{ code: string }>;
    expect(departments.map((d) => d.code)).not.toContain('NUL1');
  });

  it('answers 400, not 500, to the live feed with `token` given twice', async () => {
    const res = await t.fetch(`/api/v1/live?token=a&token=b`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_request');
  });

  it('answers 400 for JSON that does not parse', async () => {
    const res = await t.api('/api/v1/departments', { method: 'POST', body: '{"code":', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
  });

  it('answers 409 for a duplicate plate, department code or device id', async () => {
    const dup = await t.api('/api/v1/vehicles', {
      method: 'POST',
      json: {
        plateNumber: 'dh 1001 a',
        departmentId: a.departmentId,
        kind: 'car',
        fuelType: 'pertalite',
        tankCapacityLitres: 40,
        ratedLitresPer100Km: 9,
        idleLitresPerHour: 0.7,
        monthlyAllocationLitres: 100,
      },
    });
    expect(dup.status).toBe(409);
    const depRes = await t.api('/api/v1/departments', { method: 'GET' });
    const [first] = (await depRes.json()) as Array<{ code: string }>;
    expect((await t.api('/api/v1/departments', { method: 'POST', json: { code: first!.code, name: 'again' } })).status).toBe(409);
    expect((await t.api('/api/v1/devices', { method: 'POST', json: { id: a.deviceId, vehicleId: a.vehicleId } })).status).toBe(409);
  });

  it('answers 404 for an unknown department or vehicle, 400 for a bad track period', async () => {
    const ghost = '00000000-0000-4000-8000-000000000000';
    expect((await t.api(`/api/v1/vehicles/${ghost}`)).status).toBe(404);
    const res = await t.api('/api/v1/vehicles', {
      method: 'POST',
      json: {
        plateNumber: 'DH 77',
        departmentId: ghost,
        kind: 'car',
        fuelType: 'solar',
        tankCapacityLitres: 40,
        ratedLitresPer100Km: 9,
        idleLitresPerHour: 0.7,
        monthlyAllocationLitres: 100,
      },
    });
    expect(res.status).toBe(404);
    const bad = await t.api(`/api/v1/vehicles/${a.vehicleId}/track?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z`);
    expect(bad.status).toBe(400);
    const notIso = await t.api(`/api/v1/vehicles/${a.vehicleId}/track?from=yesterday`);
    expect(notIso.status).toBe(400);
  });

  it("refuses device ids reserved for the service's own broker users", async () => {
    for (const id of ['armada', 'armada-internal', 'ARMADA-ingest-1']) {
      const res = await t.api('/api/v1/devices', { method: 'POST', json: { id, vehicleId: a.vehicleId } });
      expect(res.status, id).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain('reserved');
    }
  });

  it('returns a device secret once and never lists it', async () => {
    const res = await t.api(`/api/v1/vehicles/${a.vehicleId}/devices`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(a.deviceId);
    expect(text).not.toContain(a.secret);
    expect(text).not.toContain('secret');
  });
});
