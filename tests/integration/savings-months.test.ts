/**
 * Which month a purchase counts in when the savings rows of several months are read at once:
 * local (WITA) month bounds to the millisecond, and months asked for with a gap between them
 * (a year whose middle month is closed reads its open months only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DEPARTMENTS } from '../../src/repositories/scope.js';
import { createDepartment, createVehicle, issueKey, recordPurchase } from '../support/api-fixtures.js';
import { startTestService, type TestService } from '../support/service.js';

const NOW = new Date('2026-04-10T04:00:00Z');
let t: TestService;
let vehicleId: string;

beforeAll(async () => {
  t = await startTestService({ roles: { api: true, worker: false }, listen: false, now: () => NOW });
  vehicleId = await createVehicle(t, 'DH 8101 SV', await createDepartment(t, 'DLH', 'Dinas Lingkungan'));
  const { key } = await issueKey(t, 'finance');
  const buy = (at: string, litres: number, receiptNo: string) =>
    recordPurchase(t, key, { vehicleId, at, litres, amountIdr: litres * 10_000, receiptNo });
  await buy('2026-01-01T00:00:00+08:00', 1, 'J-first'); // January's first instant
  await buy('2026-01-31T23:59:59.999+08:00', 2, 'J-last'); // its last millisecond
  await buy('2026-02-01T00:00:00+08:00', 4, 'F-first');
  await buy('2026-02-15T10:00:00+08:00', 8, 'F-mid');
  await buy('2026-02-28T23:59:59.999+08:00', 16, 'F-last');
  await buy('2026-03-01T00:00:00+08:00', 32, 'M-first');
  await buy('2026-03-31T23:59:59.999+08:00', 64, 'M-last');
  await buy('2026-04-01T00:00:00+08:00', 128, 'A-first');
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const purchased = async (months: string[]): Promise<Record<string, number>> => {
  const fleet = await t.services.repos.vehicles.list(ALL_DEPARTMENTS);
  const rows = await t.services.domain.savings.monthRows(fleet, months, new Map(), NOW.getTime());
  return Object.fromEntries(months.map((m) => [m, Number(rows.get(m)!.find((r) => r.vehicleId === vehicleId)!.purchasedMl) / 1000]));
};

describe('savings rows of several months', () => {
  it('counts each purchase in its local month, to the millisecond', async () => {
    expect(await purchased(['2026-01', '2026-02', '2026-03', '2026-04'])).toEqual({
      '2026-01': 3,
      '2026-02': 28,
      '2026-03': 96,
      '2026-04': 128,
    });
  });

  it('leaves a month that was not asked for out of its neighbours', async () => {
    expect(await purchased(['2026-01', '2026-03'])).toEqual({ '2026-01': 3, '2026-03': 96 });
    expect(await purchased(['2026-02', '2026-04'])).toEqual({ '2026-02': 28, '2026-04': 128 });
    expect(await purchased(['2026-03'])).toEqual({ '2026-03': 96 });
  });
});
