/**
 * Fuel vouchers through the API with a fixed clock: grants limited by the tank's room
 * and the allocation left, 409 with a reason code when nothing can be granted, redeemed
 * by a purchase naming the code, reopened when that purchase is voided, misuse flagged
 * (never refused), expiry, and who may issue them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDepartment, createVehicle, issueKey } from '../support/api-fixtures.js';
import { startTestService, type TestService } from '../support/service.js';

let clock = new Date('2026-05-12T02:00:00Z');
let t: TestService;
let dep: string;
let otherDep: string;
let vehicleId: string;
const keys: Record<string, string> = {};

type Voucher = {
  id: string;
  code: string;
  grantedLitres: number;
  requestedLitres: number | null;
  limitedBy: string | null;
  reason?: string | null;
  status: string;
  expiresAt: string;
  redeemedByPurchaseId: string | null;
};

async function setLevel(litres: number, ageMs = 60_000) {
  const fixAt = new Date(clock.getTime() - ageMs).toISOString();
  await t.testDb.database.query(
    `INSERT INTO vehicle_latest (vehicle_id, device_id, fix_at, received_at, lat, lon, fuel_litres) VALUES ($1, 'dev-v', $2, $2,
      -10.17, 123.6, $3)
     ON CONFLICT (vehicle_id) DO UPDATE SET fix_at = excluded.fix_at, fuel_litres = excluded.fuel_litres`,
    [vehicleId, fixAt, litres],
  );
}

const issue = (body: Record<string, unknown>, key = keys.finance) => t.api('/api/v1/fuel-vouchers', { method: 'POST', json: body, key });

async function buy(litres: number, voucherCode?: string): Promise<string> {
  const res = await t.api('/api/v1/fuel-purchases', {
    method: 'POST',
    key: keys.finance,
    json: {
      vehicleId,
      at: new Date(clock.getTime() - 60_000).toISOString(),
      litres,
      amountIdr: litres * 10_000,
      fuelType: 'pertalite',
      receiptNo: `R-${Math.random().toString(36).slice(2)}`,
      ...(voucherCode ? { voucherCode } : {}),
    },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

const list = async (query = '') => (await (await t.api(`/api/v1/fuel-vouchers${query}`)).json()) as Voucher[];
const flagsOf = async (purchaseId: string) => {
  const report = (await (await t.api('/api/v1/reconciliation?month=2026-05')).json()) as {
    purchases: Array<{ purchaseId: string; flags: Array<{ kind: string; detail: string }> }>;
  };
  // Only the voucher's flags: this vehicle has no readings, so nothing vouches for its tank.
  return report.purchases.find((p) => p.purchaseId === purchaseId)!.flags.filter((f) => f.kind === 'voucher_exceeded');
};

beforeAll(async () => {
  t = await startTestService({ roles: { api: true, worker: false }, listen: false, now: () => clock });
  dep = await createDepartment(t, 'DINKES', 'DINKES');
  otherDep = await createDepartment(t, 'PUPR', 'PUPR');
  vehicleId = await createVehicle(t, 'DH 9101 VC', dep);
  await t.api('/api/v1/devices', { method: 'POST', json: { id: 'dev-v', vehicleId } });
  for (const [name, role, d] of [
    ['finance', 'finance'],
    ['manager', 'manager', dep],
    ['otherManager', 'manager', otherDep],
    ['viewer', 'viewer', dep],
    ['auditor', 'auditor'],
  ] as const) {
    keys[name] = (await issueKey(t, role, { name, ...(d ? { departmentId: d } : {}) })).key;
  }
  await t.testDb.database.query(
    `INSERT INTO fuel_prices (fuel_type, price_idr_per_litre, valid_from) VALUES ('pertalite', 10000, '2026-01-01')`,
  );
});

afterAll(async () => {
  await t?.close();
});

describe('issuing', () => {
  it('grants what the tank can take now, saying why it is less than asked', async () => {
    await setLevel(20);
    const res = await issue({ vehicleId, litres: 45 });
    expect(res.status).toBe(201);
    const v = (await res.json()) as Voucher;
    expect(v).toMatchObject({ grantedLitres: 30, requestedLitres: 45, limitedBy: 'tank_room', status: 'open' });
    expect(v.reason).toContain('tank');
    expect(v.code).toMatch(/^[A-Z2-9]{10}$/);
    expect(Date.parse(v.expiresAt) - clock.getTime()).toBe(24 * 3600_000);
    // What was asked, when it fits.
    expect((await (await issue({ vehicleId, litres: 10 }, keys.manager)).json()) as Voucher).toMatchObject({
      grantedLitres: 10,
      limitedBy: null,
      reason: null,
    });
  });

  it('answers 409 with a reason code when nothing can be granted', async () => {
    await setLevel(20, 31 * 60_000);
    const stale = await issue({ vehicleId });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('no_recent_level');
    await setLevel(20);
    // 200 L a month: 30 + 10 L in open vouchers, 165 L bought.
    await buy(50);
    await buy(50);
    await buy(50);
    await buy(15);
    const res = await issue({ vehicleId });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('allocation_left');
  });

  it('lets managers issue for their own department only, and not viewers or auditors', async () => {
    expect((await issue({ vehicleId }, keys.otherManager)).status).toBe(404);
    expect((await issue({ vehicleId }, keys.viewer)).status).toBe(403);
    expect((await issue({ vehicleId }, keys.auditor)).status).toBe(403);
    expect((await issue({ vehicleId, litres: -1 })).status).toBe(400);
  });
});

describe('redeeming', () => {
  beforeAll(() => {
    clock = new Date(clock.getTime() + 10 * 60_000);
  });

  it('is redeemed by a purchase naming it; voiding that purchase reopens it', async () => {
    const [v] = (await list()).filter((x) => x.grantedLitres === 30);
    const p = await buy(29.5, v!.code);
    expect((await list()).find((x) => x.id === v!.id)).toMatchObject({ status: 'redeemed', redeemedByPurchaseId: p });
    expect(await flagsOf(p)).toEqual([]);
    expect(
      (await t.api(`/api/v1/fuel-purchases/${p}/void`, { method: 'POST', key: keys.finance, json: { reason: 'wrong vehicle' } })).status,
    ).toBeLessThan(300);
    expect((await list()).find((x) => x.id === v!.id)!.status).toBe('open');
    expect((await list('?status=open')).map((x) => x.id)).toContain(v!.id);
  });

  it('records misuse and flags it, never refuses: more than granted, a second purchase, an unknown code', async () => {
    const [v] = (await list()).filter((x) => x.grantedLitres === 10);
    const over = await buy(12, v!.code);
    expect((await flagsOf(over)).map((f) => f.kind)).toEqual(['voucher_exceeded']);
    const again = await buy(5, v!.code);
    const flags = await flagsOf(again);
    expect(flags.map((f) => f.kind)).toEqual(['voucher_exceeded']);
    expect(flags[0]!.detail).toContain('already redeemed');
    expect((await flagsOf(await buy(5, 'NOSUCHCODE'))).map((f) => f.detail)).toEqual(['voucher NOSUCHCODE: no such voucher']);
  });

  it('expires', async () => {
    clock = new Date(clock.getTime() + 25 * 3600_000);
    const all = await list();
    expect(all.find((x) => x.grantedLitres === 30)!.status).toBe('expired');
    expect(all.find((x) => x.grantedLitres === 10)!.status).toBe('redeemed');
  });
});
