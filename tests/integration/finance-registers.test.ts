/**
 * Finance's registers (issue 11): prices (history never edited, in force on a day),
 * stations, allocations with history, budgets, fuel-card statement import, and the audit
 * log that records every change with who made it. A fixed clock: nothing depends on today.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDepartment, createVehicle, issueKey, readJson } from '../support/api-fixtures.js';
import { startTestService, type TestService } from '../support/service.js';

const NOW = new Date('2026-11-15T04:00:00.000Z'); // 12:00 WITA
/** The service's clock: fixed, moved on by the test that needs a later month. */
let clock = NOW;
let t: TestService;
let depA: string;
let depB: string;
let vehicleA: string;
let vehicleB: string;
const keys: Record<string, string> = {};
const keyIds: Record<string, string> = {};

const json = readJson;

async function issue(name: string, role: string, departmentId?: string) {
  const body = await issueKey(t, role, { name, ...(departmentId ? { departmentId } : {}) });
  keys[name] = body.key;
  keyIds[name] = body.id;
}

type AuditEntry = {
  action: string;
  entity: string;
  entityId: string | null;
  keyId: string | null;
  keyName: string | null;
  departmentId: string | null;
  before: unknown;
  after: unknown;
};
const audit = async (query: string, key = keys.finance) =>
  json<{ entries: AuditEntry[]; total: number }>(await t.api(`/api/v1/audit-log?${query}`, { key }));

beforeAll(async () => {
  t = await startTestService({ roles: { api: true, worker: false }, listen: false, now: () => clock });
  depA = await createDepartment(t, 'DLH');
  depB = await createDepartment(t, 'DISHUB');
  const vehicle = (plate: string, departmentId: string) => createVehicle(t, plate, departmentId);
  vehicleA = await vehicle('DH 1234 AB', depA);
  vehicleB = await vehicle('DH 5678 CD', depB);
  await issue('finance', 'finance');
  await issue('auditor', 'auditor');
  await issue('auditorA', 'auditor', depA);
  await issue('managerA', 'manager', depA);
  await issue('viewer', 'viewer');
});

afterAll(async () => {
  await t?.close();
});

describe('fuel prices', () => {
  it('keep a history that is never rewritten, and answer the price in force on a local day', async () => {
    const add = (body: Record<string, unknown>, key = keys.finance) =>
      t.api('/api/v1/fuel-prices', { method: 'POST', key, json: { fuelType: 'pertamax', source: 'test', ...body } });
    expect((await add({ priceIdrPerLitre: 12_500, validFrom: '2026-09-01' })).status).toBe(201);
    expect((await add({ priceIdrPerLitre: 12_200, validFrom: '2026-10-01' })).status).toBe(201);
    // The same price again is the same entry; an earlier or same-day different price is refused.
    expect((await add({ priceIdrPerLitre: 12_200, validFrom: '2026-10-01' })).status).toBe(200);
    const earlier = await add({ priceIdrPerLitre: 11_000, validFrom: '2026-09-15' });
    expect(earlier.status).toBe(409);
    expect((await json<{ error: { message: string } }>(earlier)).error.message).toContain('2026-10-01');
    expect((await add({ priceIdrPerLitre: 12_300, validFrom: '2026-10-01' })).status).toBe(409);
    expect((await add({ priceIdrPerLitre: 12_300, validFrom: '2026-02-30' })).status).toBe(400);
    expect((await add({ priceIdrPerLitre: 12.5, validFrom: '2026-12-01' })).status).toBe(400);
    // Other fuels are independent.
    expect((await add({ fuelType: 'pertalite', priceIdrPerLitre: 10_000, validFrom: '2026-09-15' })).status).toBe(201);
    const on = async (day: string) =>
      (
        await json<Array<{ fuelType: string; priceIdrPerLitre: number }>>(
          await t.api(`/api/v1/fuel-prices?on=${day}`, { key: keys.viewer }),
        )
      ).map((p) => [p.fuelType, p.priceIdrPerLitre]);
    expect(await on('2026-08-31')).toEqual([]);
    expect(await on('2026-09-30')).toEqual([
      ['pertalite', 10_000],
      ['pertamax', 12_500],
    ]);
    expect(await on('2026-10-01')).toEqual([
      ['pertalite', 10_000],
      ['pertamax', 12_200],
    ]);
    const history = await json<Array<{ validFrom: string }>>(await t.api('/api/v1/fuel-prices?fuelType=pertamax'));
    expect(history.map((p) => p.validFrom)).toEqual(['2026-09-01', '2026-10-01']);
    // The database refuses to change a price whatever the application does.
    await expect(t.services.database.query('UPDATE fuel_prices SET price_idr_per_litre = 1')).rejects.toThrow(/append-only/);
    // Roles: the auditor, a manager and a department's finance cannot add prices.
    expect((await add({ priceIdrPerLitre: 13_000, validFrom: '2026-12-01' }, keys.auditor)).status).toBe(403);
    expect((await add({ priceIdrPerLitre: 13_000, validFrom: '2026-12-01' }, keys.managerA)).status).toBe(403);
    const logged = await audit('entity=fuel_price&limit=10');
    expect(logged.total).toBe(3);
    expect(logged.entries[0]).toMatchObject({
      action: 'fuel_price.create',
      keyId: keyIds.finance,
      keyName: 'finance',
      after: { fuelType: 'pertalite', priceIdrPerLitre: 10_000 },
    });
  });
});

describe('stations', () => {
  it('are registered once per code, and place purchases whose receipt has no position', async () => {
    const body = { code: '54.851.02', name: 'SPBU Kuanino', lat: -10.17, lon: 123.59 };
    expect((await t.api('/api/v1/fuel-stations', { method: 'POST', key: keys.finance, json: body })).status).toBe(201);
    expect((await t.api('/api/v1/fuel-stations', { method: 'POST', key: keys.finance, json: body })).status).toBe(200);
    expect((await t.api('/api/v1/fuel-stations', { method: 'POST', key: keys.finance, json: { ...body, lat: -10.2 } })).status).toBe(409);
    expect((await t.api('/api/v1/fuel-stations', { method: 'POST', key: keys.auditor, json: { ...body, code: 'X1' } })).status).toBe(403);
    const list = await json<Array<{ code: string }>>(await t.api('/api/v1/fuel-stations', { key: keys.viewer }));
    expect(list.map((s) => s.code)).toEqual(['54.851.02']);
    expect((await audit('entity=fuel_station')).entries.map((e) => e.entityId)).toEqual(['54.851.02']);
  });
});

describe('allocations', () => {
  it("apply from their month, the first from the beginning, and keep the vehicle's current figure", async () => {
    const set = (litres: number | string, fromMonth: string, key = keys.finance) =>
      t.api(`/api/v1/vehicles/${vehicleA}/allocations`, { method: 'POST', key, json: { litres, fromMonth } });
    expect((await set(150, '2026-12')).status).toBe(201);
    expect((await set('180.5', '2027-03')).status).toBe(201);
    const listed = await json<{ allocations: Array<{ litres: number; fromMonth: string }>; current: { month: string; litres: number } }>(
      await t.api(`/api/v1/vehicles/${vehicleA}/allocations`, { key: keys.managerA }),
    );
    // The vehicle's own figure from its registration became the first allocation.
    expect(listed.allocations.map((a) => [a.fromMonth, a.litres])).toEqual([
      ['2026-11', 200],
      ['2026-12', 150],
      ['2027-03', 180.5],
    ]);
    expect(listed.current).toEqual({ month: '2026-11', litres: 200 });
    const inForce = async (month: string) =>
      (await t.services.repos.allocations.inForceForMonth([vehicleA], month)).get(vehicleA)!.litresMl;
    expect(await inForce('2020-01')).toBe(200_000n); // the first applies from the beginning
    expect(await inForce('2026-11')).toBe(200_000n);
    expect(await inForce('2027-02')).toBe(150_000n);
    expect(await inForce('2027-04')).toBe(180_500n);
    // Setting the current month changes the vehicle's monthlyAllocationLitres too.
    expect((await set(210, '2026-11')).status).toBe(200);
    const shown = async () =>
      (await json<{ monthlyAllocationLitres: number }>(await t.api(`/api/v1/vehicles/${vehicleA}`))).monthlyAllocationLitres;
    expect(await shown()).toBe(210);
    // When December comes, the vehicle shows December's allocation without anything being written.
    clock = new Date('2026-12-01T00:30:00+08:00');
    try {
      expect(await shown()).toBe(150);
      const listed = await json<Array<{ id: string; monthlyAllocationLitres: number }>>(await t.api('/api/v1/vehicles'));
      expect(listed.find((v) => v.id === vehicleA)!.monthlyAllocationLitres).toBe(150);
    } finally {
      clock = NOW;
    }
    // Roles and scope: a manager and an auditor may not; another department's vehicle is not found.
    expect((await set(999, '2026-12', keys.managerA)).status).toBe(403);
    // Nor may a manager give a vehicle it registers an allocation: it starts at 0, for finance to set.
    const register = (monthlyAllocationLitres: number, plateNumber: string) =>
      t.api('/api/v1/vehicles', {
        method: 'POST',
        key: keys.managerA,
        json: {
          plateNumber,
          departmentId: depA,
          kind: 'car',
          fuelType: 'pertamax',
          tankCapacityLitres: 45,
          ratedLitresPer100Km: 9,
          idleLitresPerHour: 0.8,
          monthlyAllocationLitres,
        },
      });
    const refused = await register(500, 'DH 9001 MG');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/monthlyAllocationLitres 0/);
    expect((await register(0, 'DH 9002 MG')).status).toBe(201);
    expect((await set(999, '2026-12', keys.auditor)).status).toBe(403);
    expect((await t.api(`/api/v1/vehicles/${vehicleB}/allocations`, { key: keys.managerA })).status).toBe(404);
    expect((await set(-1, '2026-12')).status).toBe(400);
    expect((await set(10, '2026-13')).status).toBe(400);
    const logged = await audit(`entity=vehicle&entityId=${vehicleA}&action=vehicle_allocation.set`);
    expect(logged.total).toBe(3);
    expect(logged.entries[0]).toMatchObject({
      keyName: 'finance',
      departmentId: depA,
      before: { allocationLitres: '200.000' },
      after: { allocationLitres: '210.000', fromMonth: '2026-11' },
    });
  });

  it("records changes to a vehicle's tank, rated use and fuel type in the audit log", async () => {
    const res = await t.api(`/api/v1/vehicles/${vehicleB}`, {
      method: 'PATCH',
      json: { tankCapacityLitres: 65, ratedLitresPer100Km: 11, fuelType: 'pertamax', speedLimitKmh: 70 },
    });
    expect(res.status).toBe(200);
    const [entry] = (await audit(`entity=vehicle&entityId=${vehicleB}&action=vehicle.update`)).entries;
    expect(entry).toMatchObject({
      keyName: 'bootstrap admin (ADMIN_API_KEY)',
      departmentId: depB,
      before: { tankCapacityLitres: 50, ratedLitresPer100Km: 10, fuelType: 'pertalite' },
      after: { tankCapacityLitres: 65, ratedLitresPer100Km: 11, fuelType: 'pertamax' },
    });
  });
});

describe('budgets', () => {
  it("set a department's yearly budget, readable by the department and finance", async () => {
    const put = (amountIdr: number, key = keys.finance, dep = depA) =>
      t.api(`/api/v1/departments/${dep}/budgets/2027`, { method: 'PUT', key, json: { amountIdr } });
    expect((await put(1_250_000_000)).status).toBe(201);
    expect((await put(1_300_000_000)).status).toBe(200);
    expect((await put(1, keys.managerA)).status).toBe(403);
    expect((await put(1, keys.auditor)).status).toBe(403);
    expect((await put(10.5)).status).toBe(400);
    const mine = await json<{ amountIdr: number }>(await t.api(`/api/v1/departments/${depA}/budgets/2027`, { key: keys.managerA }));
    expect(mine.amountIdr).toBe(1_300_000_000);
    expect((await t.api(`/api/v1/departments/${depB}/budgets`, { key: keys.managerA })).status).toBe(404);
    const logged = await audit(`entity=department_budget`);
    expect(logged.entries.map((e) => [e.action, e.before, e.after])).toEqual([
      ['department_budget.update', { year: 2027, amountIdr: 1_250_000_000 }, { year: 2027, amountIdr: 1_300_000_000 }],
      ['department_budget.create', null, { year: 2027, amountIdr: 1_250_000_000 }],
    ]);
  });
});

describe('fuel-card statements', () => {
  const header = 'plateNumber,at,litres,amountIdr,fuelType,station,receiptNo,odometerKm';
  const good = [
    'DH 1234 AB,2026-11-14 08:15,35.42,354200,pertalite,54.851.02,ST-1001,12034',
    '"dh 5678 cd",2026-11-14T09:30:00+08:00,"40,5","Rp 405.000",pertamax,54.851.02,ST-1002,',
  ];
  const bad = [
    'DH 1234 AB,2026-11-14 10:00,20,200000,pertalite,,,', // no receiptNo
    'DH 0000 ZZ,2026-11-14 10:00,20,200000,pertalite,,ST-1004,', // unknown plate
    'DH 1234 AB,2026-11-16 10:00,0,200000,avtur,,ST-1005,', // future, no litres, unknown fuel
  ];
  const csv = (...rows: string[]) => `${[header, ...rows].join('\n')}\n`;
  const post = (body: string, query = '', key = keys.finance) =>
    t.api(`/api/v1/fuel-purchases/import${query}`, { method: 'POST', key, body, headers: { 'content-type': 'text/csv' } });
  type Result = {
    written: boolean;
    summary: Record<string, number>;
    rows: Array<{ line: number; status: string; entryId?: string; errors?: Array<{ field: string }> }>;
  };
  const ledgerSize = async () => (await json<{ total: number }>(await t.api('/api/v1/fuel-purchases'))).total;

  it('reports without writing on a dry run, writes nothing of an atomic import with a bad row, and names fields and lines', async () => {
    const before = await ledgerSize();
    const dry = await post(csv(...good, ...bad), '?dryRun=true');
    expect(dry.status).toBe(200);
    const d = await json<Result>(dry);
    expect(d.written).toBe(false);
    expect(d.rows.map((r) => [r.line, r.status])).toEqual([
      [2, 'would_create'],
      [3, 'would_create'],
      [4, 'invalid'],
      [5, 'invalid'],
      [6, 'invalid'],
    ]);
    expect(d.rows[2]!.errors!.map((e) => e.field)).toEqual(['receiptNo']);
    expect(d.rows[3]!.errors!.map((e) => e.field)).toEqual(['plateNumber']);
    expect(d.rows[4]!.errors!.map((e) => e.field).sort()).toEqual(['at', 'fuelType', 'litres']);
    const atomic = await post(csv(...good, ...bad), '?atomic=true');
    expect(atomic.status).toBe(422);
    expect((await json<Result>(atomic)).rows.slice(0, 2).map((r) => r.status)).toEqual(['not_written', 'not_written']);
    expect(await ledgerSize()).toBe(before);
  });

  it('writes the good rows (local times in WITA), and the same file again adds nothing', async () => {
    const before = await ledgerSize();
    const first = await json<Result>(await post(csv(...good, ...bad)));
    expect(first.summary).toEqual({ rows: 5, created: 2, existing: 0, invalid: 3 });
    expect(await ledgerSize()).toBe(before + 2);
    const entry = await json<{ at: string; litres: number; amountIdr: number; source: string; position: { source: string } }>(
      await t.api(`/api/v1/fuel-purchases/${first.rows[0]!.entryId}`),
    );
    expect(entry).toMatchObject({
      at: '2026-11-14T00:15:00.000Z',
      litres: 35.42,
      amountIdr: 354_200,
      source: 'import',
      position: { source: 'station' },
    });
    const second = await json<Result>(await post(csv(...good, ...bad)));
    expect(second.summary).toEqual({ rows: 5, created: 0, existing: 2, invalid: 3 });
    expect(second.rows[0]!.entryId).toBe(first.rows[0]!.entryId);
    expect(await ledgerSize()).toBe(before + 2);
    const logged = await audit('action=fuel_purchase.import');
    expect(logged.entries.map((e) => e.after)).toEqual([
      { rows: 5, created: 0, existing: 2, invalid: 3, atomic: false },
      { rows: 5, created: 2, existing: 0, invalid: 3, atomic: false },
    ]);
  });

  it('refuses a file it cannot read, naming what is wrong', async () => {
    const noReceipt = await post('plateNumber,at,litres,amountIdr,fuelType\nDH 1234 AB,2026-11-14 08:15,1,1,pertalite\n');
    expect(noReceipt.status).toBe(400);
    expect((await json<{ error: { message: string } }>(noReceipt)).error.message).toContain('receiptNo');
    const broken = await post(`${header}\n"DH 1234 AB,2026-11-14 08:15\n`);
    expect(broken.status).toBe(400);
    expect((await post(csv(...good), '', keys.auditor)).status).toBe(403);
  });
});

describe('the audit log', () => {
  it('records purchases, voids and API keys with who and when, is read by admin, finance and auditor only, and scoped', async () => {
    const p = await json<{ id: string }>(
      await t.api('/api/v1/fuel-purchases', {
        method: 'POST',
        key: keys.finance,
        json: {
          vehicleId: vehicleB,
          at: '2026-11-15T09:00:00+08:00',
          litres: 10,
          amountIdr: 100_000,
          fuelType: 'pertalite',
          receiptNo: 'AUD-1',
        },
      }),
    );
    await t.api(`/api/v1/fuel-purchases/${p.id}/void`, { method: 'POST', key: keys.finance, json: { reason: 'test void' } });
    const entries = (await audit(`entity=fuel_purchase&entityId=${p.id}`, keys.auditor)).entries;
    expect(entries.map((e) => [e.action, e.keyName])).toEqual([
      ['fuel_purchase.void', 'finance'],
      ['fuel_purchase.create', 'finance'],
    ]);
    const keyEntries = await audit(`entity=api_key&entityId=${keyIds.viewer}`, keys.auditor);
    expect(keyEntries.entries[0]).toMatchObject({
      action: 'api_key.create',
      keyName: 'bootstrap admin (ADMIN_API_KEY)',
      after: { role: 'viewer', name: 'viewer' },
    });
    await t.api(`/api/v1/api-keys/${keyIds.viewer}/revoke`, { method: 'POST' });
    expect((await audit(`entity=api_key&action=api_key.revoke`, keys.auditor)).entries[0]).toMatchObject({
      entityId: keyIds.viewer,
      after: { role: 'viewer' },
    });
    // Who may read it.
    expect((await t.api('/api/v1/audit-log', { key: keys.managerA })).status).toBe(403);
    // A department's auditor sees its department's entries and the city-wide registers', nothing of another department.
    const scoped = await audit('limit=1000', keys.auditorA);
    expect(scoped.entries.length).toBeGreaterThan(0);
    expect(
      scoped.entries.every(
        (e) => e.departmentId === depA || (e.departmentId === null && ['fuel_price', 'fuel_station'].includes(e.entity)),
      ),
    ).toBe(true);
    expect(JSON.stringify(scoped)).not.toContain(vehicleB);
    // Append-only.
    await expect(t.services.database.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
  });
});

describe('the OpenAPI document', () => {
  it('documents every finance route under the finance tag, with schemas, and the statement as a text/csv body', async () => {
    const doc = (await (await t.fetch(`/docs/json`)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            tags?: string[];
            summary?: string;
            requestBody?: { content: Record<string, unknown> };
            responses: Record<string, { content?: unknown }>;
          }
        >
      >;
    };
    const finance: Array<[string, string]> = [
      ['/api/v1/fuel-purchases', 'get'],
      ['/api/v1/fuel-purchases', 'post'],
      ['/api/v1/fuel-purchases/{id}', 'get'],
      ['/api/v1/fuel-purchases/{id}/void', 'post'],
      ['/api/v1/fuel-purchases/import', 'post'],
      ['/api/v1/fuel-purchases/verify', 'get'],
      ['/api/v1/fuel-prices', 'get'],
      ['/api/v1/fuel-prices', 'post'],
      ['/api/v1/fuel-stations', 'get'],
      ['/api/v1/fuel-stations', 'post'],
      ['/api/v1/vehicles/{id}/allocations', 'get'],
      ['/api/v1/vehicles/{id}/allocations', 'post'],
      ['/api/v1/departments/{id}/budgets', 'get'],
      ['/api/v1/departments/{id}/budgets/{year}', 'get'],
      ['/api/v1/departments/{id}/budgets/{year}', 'put'],
      ['/api/v1/audit-log', 'get'],
    ];
    for (const [path, method] of finance) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op!.tags, `${method} ${path}`).toEqual(['finance']);
      expect(op!.summary?.length, `${method} ${path}`).toBeGreaterThan(10);
      expect(op!.responses['200'] ?? op!.responses['201'], `${method} ${path}`).toHaveProperty('content');
      if (method !== 'get') expect(op!.requestBody, `${method} ${path}`).toBeDefined();
    }
    expect(Object.keys(doc.paths['/api/v1/fuel-purchases/import']!.post!.requestBody!.content)).toEqual(['text/csv']);
  });
});
