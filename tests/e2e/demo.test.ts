/**
 * `npm run demo` as a newcomer runs it: a seeded Kupang fleet that moves, visible
 * through the API with the printed key, and the same data on a second run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoVehicles } from '../../simulator/demo-fleet.js';
import { freePort, runCli, type CliProcess } from '../support/process.js';
import { openDatabase } from '../../src/db/client.js';
import { waitFor } from '../support/service.js';
import { silentLogger } from '../support/stores.js';

type Latest = { vehicleId: string; plateNumber: string; at: string; lat: number; lon: number; status: string };

let dataDir: string;
let httpPort: number;
let demo: CliProcess;

const startDemo = async () => {
  httpPort = await freePort();
  demo = runCli('demo', { DATA_DIR: dataDir, HTTP_PORT: String(httpPort), MQTT_PORT: String(await freePort()) });
  return waitFor(() => Promise.resolve(/Admin API key\s+(\S+)/.exec(demo.output())?.[1]), 'the demo to print its admin key', 60_000);
};
const latest = async (key: string) =>
  (await (
    await fetch(`http://127.0.0.1:${httpPort}/api/v1/positions/latest`, { headers: { authorization: `Bearer ${key}` } })
  ).json()) as Latest[];

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'armada-demo-'));
});

afterAll(async () => {
  if (demo && demo.child.exitCode === null) {
    demo.child.kill('SIGKILL');
    await demo.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  let key: string;
  let first: Latest[];

  it('prints the API address, an admin key and the MQTT port', async () => {
    key = await startDemo();
    expect(demo.output()).toContain(`http://127.0.0.1:${httpPort}/api/v1`);
    expect(demo.output()).toContain(`Live map       http://127.0.0.1:${httpPort}/#key=${key}`);
    expect(demo.output()).toMatch(/MQTT broker\s+mqtt:\/\/127\.0\.0\.1:\d+/);
  });

  it('shows the whole Kupang fleet in positions/latest, inside the city', async () => {
    first = await waitFor(
      async () => {
        const rows = await latest(key);
        return rows.length === demoVehicles.length ? rows : null;
      },
      'every demo vehicle to report',
      30_000,
    );
    expect(new Set(first.map((r) => r.plateNumber))).toEqual(new Set(demoVehicles.map((v) => v.plateNumber)));
    for (const r of first) {
      expect(r.lat).toBeGreaterThan(-10.3);
      expect(r.lat).toBeLessThan(-10.11);
      expect(r.lon).toBeGreaterThan(123.52);
      expect(r.lon).toBeLessThan(123.69);
      expect(r.status).not.toBe('offline');
    }
  });

  it("seeds Pertamina's dated NTT prices (with their sources) and Kupang's stations", async () => {
    const get = async <T>(path: string) =>
      (await (await fetch(`http://127.0.0.1:${httpPort}/api/v1${path}`, { headers: { authorization: `Bearer ${key}` } })).json()) as T;
    const prices = await get<Array<{ fuelType: string; source: string | null }>>('/fuel-prices?on=2026-06-15');
    expect(prices.map((p) => p.fuelType).sort()).toEqual(['dexlite', 'pertalite', 'pertamax', 'pertamax_turbo', 'pertamina_dex', 'solar']);
    expect(prices.every((p) => (p.source ?? '').includes('2025') || (p.source ?? '').includes('2026'))).toBe(true);
    const stations = await get<Array<{ code: string }>>('/fuel-stations');
    expect(stations.length).toBeGreaterThan(3);
    expect(stations.every((s) => /^54\.851\.\d{2}$/.test(s.code))).toBe(true);
  });

  it('moves vehicles', async () => {
    const was = new Map(first.map((r) => [r.vehicleId, `${r.lat},${r.lon}`]));
    const moved = await waitFor(
      async () => {
        const n = (await latest(key)).filter((r) => was.get(r.vehicleId) !== `${r.lat},${r.lon}`).length;
        return n >= 3 ? n : null;
      },
      'at least three vehicles to move',
      20_000,
    );
    expect(moved).toBeGreaterThanOrEqual(3);
  });

  it("marks the ambulances and the disaster and fire office's vehicles exempt from outside-hours alerts", async () => {
    const get = async <T>(path: string) =>
      (await (await fetch(`http://127.0.0.1:${httpPort}/api/v1${path}`, { headers: { authorization: `Bearer ${key}` } })).json()) as T;
    const rules = await get<{ departments: Array<{ exemptVehicleIds: string[] }> }>('/alert-rules');
    const vehicles = await get<Array<{ id: string; plateNumber: string; kind: string; departmentId: string }>>('/vehicles');
    const departments = await get<Array<{ id: string; code: string }>>('/departments');
    const bpbd = departments.find((d) => d.code === 'BPBD')!.id;
    const exempt = new Set(rules.departments.flatMap((d) => d.exemptVehicleIds));
    const plates = (ids: Iterable<string>) => new Set([...ids].map((id) => vehicles.find((v) => v.id === id)!.plateNumber));
    const onCall = vehicles.filter((v) => v.kind === 'ambulance' || v.departmentId === bpbd).map((v) => v.id);
    expect(onCall.length).toBeGreaterThanOrEqual(5);
    expect(plates(exempt)).toEqual(plates(onCall));
  });

  it('stops on SIGINT, reuses its data and key on the next run, and resumes each vehicle where it stopped', async () => {
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    // While it is stopped, put one vehicle 3 km from where it was (inside Kupang): on the next
    // run it must go on from there, not from the place the simulator's seed would start it at.
    const database = await openDatabase({ kind: 'pglite', dataDir, logger: silentLogger });
    const [moved] = await database.query<{ vehicle_id: string; lat: number; lon: number }>(
      `UPDATE vehicle_latest SET lat = CASE WHEN lat > -10.19 THEN -10.215 ELSE -10.155 END, lon = 123.60
        WHERE vehicle_id = (SELECT vehicle_id FROM vehicle_latest ORDER BY vehicle_id LIMIT 1) RETURNING vehicle_id, lat, lon`,
    );
    await database.close();

    const again = await startDemo();
    expect(again).toBe(key);
    const before = new Date().toISOString();
    const after = await waitFor(
      async () => {
        const p = (await latest(key)).find((r) => r.vehicleId === moved!.vehicle_id);
        return p && p.at > before ? p : null;
      },
      'the moved vehicle to report after the restart',
      90_000,
    );
    const dLatM = (after.lat - moved!.lat) * 111_320;
    const dLonM = (after.lon - moved!.lon) * 111_320 * Math.cos((after.lat * Math.PI) / 180);
    expect(Math.hypot(dLatM, dLonM)).toBeLessThan(1000);
    expect((await latest(key)).length).toBe(demoVehicles.length);
  }, 150_000);
});
