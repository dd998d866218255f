/**
 * The savings report through the API with a fixed clock: the baseline from the allocation
 * in force and a price changed mid-month (prorated by day), the current month prorated by
 * elapsed days, purchases from the ledger (voids left out), litres used from the rollups,
 * unexplained litres, budgets and spend, a year; CSV and XLSX exports with department
 * names, local dates, a totals row and formula injection neutralised; department scope.
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDepartment, createVehicle, issueKey, recordPurchase } from '../support/api-fixtures.js';
import { startTestService, type TestService } from '../support/service.js';

const NOW = new Date('2026-04-10T04:00:00Z'); // 12:00 WITA on the 10th of April
let t: TestService;
let depA: string;
let depB: string;
let v1: string;
let v2: string;
let vB: string;
let financeKey: string;
let viewerA: string;

type Row = {
  vehicleId: string;
  plateNumber: string;
  departmentName: string;
  baselineLitres: number;
  baselineIdr: number;
  purchasedLitres: number;
  purchasedIdr: number;
  usedLitres: number;
  usedSource: string;
  ratedLitres: number;
  unexplainedLitres: number;
  savingsIdr: number;
  flags: string[];
};
type Totals = { vehicles: number; baselineIdr: number; purchasedIdr: number; savingsIdr: number; purchasedLitres: number };
type Dept = Totals & {
  departmentId: string;
  departmentName: string;
  budgetIdr: number | null;
  spentIdr: number;
  budgetLeftIdr: number | null;
};
type MonthReport = { month: string; partial: boolean; closed: boolean; vehicles: Row[]; departments: Dept[]; totals: Totals };

async function get<T>(path: string, key?: string): Promise<T> {
  const res = await t.api(path, key ? { key } : {});
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const buy = (vehicleId: string, at: string, litres: number, amountIdr: number, receiptNo: string) =>
  recordPurchase(t, financeKey, { vehicleId, at, litres, amountIdr, receiptNo });

beforeAll(async () => {
  t = await startTestService({ roles: { api: true, worker: false }, listen: false, now: () => NOW });
  depA = await createDepartment(t, 'DISHUB', 'Dinas Perhubungan');
  depB = await createDepartment(t, 'EVIL', '=HYPERLINK("http://x","click")');
  v1 = await createVehicle(t, 'DH 8001 SV', depA);
  v2 = await createVehicle(t, 'DH 8002 SV', depA);
  vB = await createVehicle(t, 'DH 8003 SV', depB);
  const db = t.testDb.database;
  await db.query(
    `INSERT INTO fuel_prices (fuel_type, price_idr_per_litre, valid_from) VALUES ('pertalite', 10000, '2026-01-01'), ('pertalite',
      10500, '2026-03-16')`,
  );
  // v1: 200 L a month, 300 L from April; v2 and vB keep 200 L (their vehicle's figure).
  // (A new vehicle's allocation is recorded from its first month; this history replaces it.)
  await db.query(
    `INSERT INTO vehicle_allocations (vehicle_id, litres, from_month) VALUES ($1, 200, '2026-01-01'), ($1, 300, '2026-04-01')
     ON CONFLICT (vehicle_id, from_month) DO UPDATE SET litres = excluded.litres`,
    [v1],
  );
  await db.query(`INSERT INTO department_budgets (department_id, year, amount_idr) VALUES ($1, 2026, 50000000)`, [depA]);
  // v1's March: 31 days of 3 L used (sensor), the tank from 20 L to 30 L over the month.
  await db.query(
    `INSERT INTO vehicle_day_rollups (vehicle_id, day, points, distance_km, distance_outside_hours_km, driving_s, idle_s, engine_s,
      max_speed_kmh, trip_count,
       fuel_source, fuel_used_litres, counter_litres, sensor_litres, rated_litres, idle_litres, refuel_count, refuel_litres,
         drain_count, drain_litres,
       start_level_litres, end_level_litres, computed_at)
     SELECT $1::uuid, d::date, 100, 30, 0, 3600, 60, 3660, 50, 2, 'sensor', 3, NULL, 3, 3.2, 0.1, 0, 0, 0, 0,
            CASE WHEN d = '2026-03-01' THEN 20 ELSE 25 END, CASE WHEN d = '2026-03-31' THEN 30 ELSE 25 END, now()
       FROM generate_series('2026-03-01'::date, '2026-03-31'::date, interval '1 day') AS d`,
    [v1],
  );
  await t.services.repos.analytics.rebuildMonthRollups();
  financeKey = (await issueKey(t, 'finance')).key;
  viewerA = (await issueKey(t, 'viewer', { departmentId: depA })).key;
  await buy(v1, '2026-03-05T10:00:00+08:00', 60, 600_000, 'M-1');
  await buy(v1, '2026-03-20T10:00:00+08:00', 50.5, 530_250, 'M-2');
  const mistake = await buy(v1, '2026-03-21T10:00:00+08:00', 40, 400_000, 'M-3');
  expect(
    (await t.api(`/api/v1/fuel-purchases/${mistake}/void`, { method: 'POST', key: financeKey, json: { reason: 'entered twice' } })).status,
  ).toBeLessThan(300);
  await buy(v2, '2026-04-02T10:00:00+08:00', 30, 315_000, 'A-1');
  await buy(vB, '2026-03-10T10:00:00+08:00', 10, 100_000, 'B-1');
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('a past month', () => {
  let report: MonthReport;
  beforeAll(async () => {
    report = await get<MonthReport>(`/api/v1/reports/savings?month=2026-03&departmentId=${depA}`);
  });

  it('takes the baseline from the allocation and the price in force, counted by day', () => {
    const r = report.vehicles.find((x) => x.vehicleId === v1)!;
    expect(report).toMatchObject({ month: '2026-03', partial: false, closed: false });
    expect(r.baselineLitres).toBe(200);
    // 200 L × (15 days × 10,000 + 16 days × 10,500) / 31 = 2,051,612.9… → 2,051,613
    expect(r.baselineIdr).toBe(2_051_613);
  });

  it('adds what was bought (the voided purchase left out), what was used, and what the litres leave unexplained', () => {
    const r = report.vehicles.find((x) => x.vehicleId === v1)!;
    expect(r.purchasedLitres).toBe(110.5);
    expect(r.purchasedIdr).toBe(1_130_250);
    expect(r.savingsIdr).toBe(2_051_613 - 1_130_250);
    expect(r.usedLitres).toBe(93);
    expect(r.usedSource).toBe('sensor');
    expect(r.ratedLitres).toBeCloseTo(99.2, 3);
    // 110.5 − 93 − (30 − 20)
    expect(r.unexplainedLitres).toBe(7.5);
    expect(r.departmentName).toBe('Dinas Perhubungan');
  });

  it('sums rounded rows by department, with the budget and the year’s spend so far', () => {
    const d = report.departments.find((x) => x.departmentId === depA)!;
    const rows = report.vehicles;
    expect(d.vehicles).toBe(2);
    expect(d.baselineIdr).toBe(rows.reduce((s, r) => s + r.baselineIdr, 0));
    expect(d.savingsIdr).toBe(rows.reduce((s, r) => s + r.savingsIdr, 0));
    expect(d.budgetIdr).toBe(50_000_000);
    expect(d.spentIdr).toBe(1_130_250);
    expect(d.budgetLeftIdr).toBe(50_000_000 - 1_130_250);
    expect(report.totals.baselineIdr).toBe(d.baselineIdr);
  });
});

describe('the current month and the year', () => {
  it('prorates the current month by elapsed days, with the allocation in force then', async () => {
    const report = await get<MonthReport>(`/api/v1/reports/savings?month=2026-04&departmentId=${depA}`);
    expect(report.partial).toBe(true);
    const r1 = report.vehicles.find((x) => x.vehicleId === v1)!;
    // 300 L × 10 of 30 days; 100 L at 10,500.
    expect(r1.baselineLitres).toBe(100);
    expect(r1.baselineIdr).toBe(1_050_000);
    const r2 = report.vehicles.find((x) => x.vehicleId === v2)!;
    expect(r2.baselineLitres).toBe(66.667);
    expect(r2.savingsIdr).toBe(r2.baselineIdr - 315_000);
  });

  it('answers a year as its months and their sums', async () => {
    const year = await get<{
      year: number;
      months: Array<{ month: string; partial: boolean; totals: Totals }>;
      vehicles: Row[];
      totals: Totals;
      departments: Dept[];
    }>(`/api/v1/reports/savings?year=2026&departmentId=${depA}`);
    expect(year.months.map((m) => m.month)).toEqual(['2026-01', '2026-02', '2026-03', '2026-04']);
    expect(year.months[3]!.partial).toBe(true);
    expect(year.totals.baselineIdr).toBe(year.months.reduce((s, m) => s + m.totals.baselineIdr, 0));
    expect(year.totals.purchasedIdr).toBe(1_130_250 + 315_000);
    expect(year.vehicles.find((r) => r.vehicleId === v1)!.baselineIdr).toBe(2_000_000 + 2_000_000 + 2_051_613 + 1_050_000);
  });

  it('takes month or year, not both (neither: the current month), and names a bad one', async () => {
    expect((await get<MonthReport>('/api/v1/reports/savings')).month).toBe('2026-04');
    expect((await t.api('/api/v1/reports/savings?month=2026-03&year=2026')).status).toBe(400);
    const bad = await t.api('/api/v1/reports/savings?month=March');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('month');
  });
});

describe('exports and scope', () => {
  it('CSV: department names, a totals row, a file name dated locally, and no formula', async () => {
    const res = await t.api('/api/v1/reports/savings?month=2026-03');
    expect(res.status).toBe(200);
    const csv = await t.api('/api/v1/reports/savings?month=2026-03&format=csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toContain('savings-2026-03-2026-04-10.csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'period,plateNumber,departmentName,baselineLitres,baselineIdr,purchasedLitres,purchasedIdr,' +
        'usedLitres,usedSource,ratedLitres,unexplainedLitres,savingsIdr,flags',
    );
    expect(lines).toHaveLength(1 + 3 + 1);
    expect(lines.some((l) => l.includes('Dinas Perhubungan'))).toBe(true);
    expect(lines.some((l) => l.includes(`"'=HYPERLINK(""http://x"",""click"")"`))).toBe(true);
    const total = lines[lines.length - 1]!.split(',');
    expect(total[1]).toBe('TOTAL');
    const json = (await res.json()) as MonthReport;
    expect(Number(total[4])).toBe(json.totals.baselineIdr);
  });

  it('XLSX: numeric rupiah cells with a rupiah format, a totals row, text neutralised', async () => {
    const res = await t.api('/api/v1/reports/savings?month=2026-03&format=xlsx');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(res.headers.get('content-disposition')).toContain('savings-2026-03-2026-04-10.xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ArrayBuffer);
    const ws = wb.getWorksheet('Vehicles')!;
    expect(String(ws.getCell('A2').value)).toBe('Generated 2026-04-10 12:00 WITA');
    const header = ws.getRow(4).values as unknown[];
    const col = header.indexOf('baselineIdr');
    const row = [5, 6, 7].map((i) => ws.getRow(i)).find((r) => r.getCell(1).value === 'DH 8001 SV')!;
    expect(row.getCell(col).value).toBe(2_051_613);
    expect(row.getCell(col).numFmt).toContain('"Rp"');
    const evil = [5, 6, 7].map((i) => ws.getRow(i)).find((r) => r.getCell(1).value === 'DH 8003 SV')!;
    expect(evil.getCell(2).value).toBe(`'=HYPERLINK("http://x","click")`);
    const totals = ws.getRow(8);
    expect(totals.getCell(1).value).toBe('TOTAL');
    expect(typeof totals.getCell(col).value).toBe('number');
  });

  it("gives a department's key its own department only, in exports too", async () => {
    const mine = await get<MonthReport>('/api/v1/reports/savings?month=2026-03', viewerA);
    expect(new Set(mine.vehicles.map((r) => r.vehicleId))).toEqual(new Set([v1, v2]));
    expect(mine.departments.map((d) => d.departmentId)).toEqual([depA]);
    const csv = await (await t.api('/api/v1/reports/savings?month=2026-03&format=csv', { key: viewerA })).text();
    expect(csv).not.toContain('DH 8003 SV');
    expect((await t.api(`/api/v1/reports/savings?month=2026-03&departmentId=${depB}`, { key: viewerA })).status).toBe(404);
  });
});

describe('closing a month', () => {
  let signed: MonthReport;

  it('closes a finished month once, by a finance key without a department', async () => {
    signed = await get<MonthReport>('/api/v1/reports/savings?month=2026-03');
    const close = (month: string, key = financeKey) => t.api('/api/v1/month-closings', { method: 'POST', key, json: { month } });
    const early = await close('2026-04');
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe('month_not_over');
    expect((await close('2026-03', viewerA)).status).toBe(403);
    const res = await close('2026-03');
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ month: '2026-03', closedAt: NOW.toISOString(), closedBy: { keyName: 'finance' } });
    const again = await close('2026-03');
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('already_closed');
    expect(
      ((await (await t.api('/api/v1/month-closings', { key: viewerA })).json()) as Array<{ month: string }>).map((c) => c.month),
    ).toEqual(['2026-03']);
  });

  it('freezes its reports; a receipt entered later shows as an adjustment in the next month', async () => {
    const late = await buy(v1, '2026-03-30T10:00:00+08:00', 10, 100_000, 'M-LATE');
    const frozen = await get<MonthReport>('/api/v1/reports/savings?month=2026-03');
    expect(frozen.closed).toBe(true);
    expect(frozen.vehicles).toEqual(signed.vehicles);
    expect(frozen.totals).toEqual(signed.totals);
    const april = await get<
      MonthReport & {
        adjustments: Array<{ month: string; vehicleId: string; purchasedLitres: number; purchasedIdr: number; savingsIdr: number }>;
      }
    >('/api/v1/reports/savings?month=2026-04');
    expect(april.adjustments).toEqual([
      expect.objectContaining({ month: '2026-03', vehicleId: v1, purchasedLitres: 10, purchasedIdr: 100_000, savingsIdr: -100_000 }),
    ]);
    const recMarch = await get<{ closed: boolean; purchases: Array<{ purchaseId: string }> }>('/api/v1/reconciliation?month=2026-03');
    expect(recMarch.closed).toBe(true);
    expect(recMarch.purchases.map((p) => p.purchaseId)).not.toContain(late);
    const recApril = await get<{ adjustments: { month: string; purchases: Array<{ purchaseId: string }> } }>(
      '/api/v1/reconciliation?month=2026-04',
    );
    expect(recApril.adjustments.month).toBe('2026-03');
    expect(recApril.adjustments.purchases.map((p) => p.purchaseId)).toEqual([late]);
    // A department's key sees its own department of the signed report.
    const mine = await get<MonthReport>('/api/v1/reports/savings?month=2026-03', viewerA);
    expect(new Set(mine.vehicles.map((r) => r.vehicleId))).toEqual(new Set([v1, v2]));
  });
});
