/** The demo's finance registers: Pertamina's dated NTT prices and Kupang's stations, seeded once. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NTT_FUEL_PRICES, fuelPriceOn } from '../../simulator/fuel-prices.js';
import { kupangFuelStations } from '../../simulator/kupang.js';
import { seedFinanceRegisters } from '../../src/demo/seed.js';
import { createRepositories, type Repositories } from '../../src/repositories/index.js';
import { createTestDatabase, type TestDatabase } from '../support/stores.js';

let db: TestDatabase;
let repos: Repositories;

beforeAll(async () => {
  db = await createTestDatabase();
  repos = createRepositories(db.database);
});

afterAll(async () => {
  await db?.drop();
});

it('seeds the dated price table with its sources and the stations, and a second run adds nothing', async () => {
  await seedFinanceRegisters(repos, new Date('2026-11-15T04:00:00Z'));
  await seedFinanceRegisters(repos, new Date('2026-11-16T04:00:00Z'));
  const prices = await repos.prices.list();
  expect(prices).toHaveLength(NTT_FUEL_PRICES.length);
  expect(prices.every((p) => p.source && p.source.length > 20)).toBe(true);
  // The database answers the same price in force as the table the simulator prices receipts with.
  for (const day of ['2025-12-15', '2026-01-01', '2026-11-30']) {
    const inForce = await repos.prices.inForceOn(day);
    for (const p of inForce) expect(Number(p.priceIdrPerLitre), `${p.fuelType} on ${day}`).toBe(fuelPriceOn(p.fuelType as never, day));
  }
  expect(Number((await repos.prices.inForceOn('2026-11-30', 'pertamax'))[0]!.priceIdrPerLitre)).toBe(12_350);
  const stations = await repos.stations.list();
  expect(stations.map((s) => s.code)).toEqual(kupangFuelStations.map((_, i) => `54.851.${String(i + 1).padStart(2, '0')}`));
  const audit = await repos.auditLog.list({ departmentId: null }, { limit: 1000, offset: 0 });
  expect(audit.total).toBe(NTT_FUEL_PRICES.length + kupangFuelStations.length);
  expect(new Set(audit.rows.map((r) => r.keyName))).toEqual(new Set(['demo seed']));
});
