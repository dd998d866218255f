/**
 * POST /api/v1/devices waits for this process's ingest worker to subscribe to the new
 * device (per-device subscriptions), but never longer than a few seconds, and never
 * fails a registration that is already stored because the broker is away.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createRepositories, type Repositories } from '../../src/repositories/index.js';
import { createServices } from '../../src/services.js';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../../src/security/secrets.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/stores.js';

let testDb: TestDatabase;
let repos: Repositories;
let adminKey: string;
let vehicleId: string;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
  repos = createRepositories(testDb.database);
  adminKey = generateApiKey();
  await repos.apiKeys.create({
    name: 'admin',
    role: 'admin',
    departmentId: null,
    keyHash: hashApiKey(adminKey),
    keyPrefix: apiKeyPrefix(adminKey),
  });
  const dep = await repos.departments.create({ code: 'REG', name: 'Registration' });
  const vehicle = await repos.vehicles.create({
    plateNumber: 'DH 1 REG',
    departmentId: dep.id,
    kind: 'car',
    fuelType: 'pertalite',
    tankCapacityLitres: 50,
    ratedLitresPer100Km: 9,
    idleLitresPerHour: 0.8,
    monthlyAllocationLitres: 200,
  });
  vehicleId = vehicle.id;
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

afterAll(async () => {
  await testDb?.drop();
});

async function register(onDeviceRegistered: () => Promise<void>, deviceId: string) {
  const app = await buildApp({
    database: testDb.database,
    repos,
    services: createServices(repos),
    logger: silentLogger,
    now: () => new Date(),
    onDeviceRegistered,
  });
  apps.push(app);
  const startedAt = Date.now();
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/devices',
    headers: { authorization: `Bearer ${adminKey}` },
    payload: { id: deviceId, vehicleId },
  });
  return { status: res.statusCode, tookMs: Date.now() - startedAt };
}

describe('registering a device while the ingest subscribes to it', () => {
  it('answers once the subscription is in place', async () => {
    let subscribed = false;
    const result = await register(async () => {
      await new Promise((r) => setTimeout(r, 300));
      subscribed = true;
    }, 'reg-waits');
    expect(result.status).toBe(201);
    expect(subscribed).toBe(true);
    // (A timer may fire a little early under load: well over half the wait is proof enough.)
    expect(result.tookMs).toBeGreaterThanOrEqual(250);
  });

  it('answers 201 within about five seconds when the broker does not answer, and when the subscription fails', async () => {
    const hanging = await register(() => new Promise<void>(() => undefined), 'reg-hangs');
    expect(hanging.status).toBe(201);
    expect(hanging.tookMs).toBeLessThan(8000);
    const failing = await register(() => Promise.reject(new Error('broker gone')), 'reg-fails');
    expect(failing.status).toBe(201);
    expect((await repos.devices.findIdentity('reg-hangs'))?.vehicleId).toBe(vehicleId);
    expect((await repos.devices.findIdentity('reg-fails'))?.vehicleId).toBe(vehicleId);
  });
});
