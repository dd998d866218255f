/**
 * The production layout without Docker (bench/scale-out.ts, the same code as `npm run
 * bench -- --only scale-out`, here with 1,000 devices instead of 10,000): two ingest
 * worker processes and two API processes on a fresh PostgreSQL database and the shipped
 * Mosquitto config run by the real broker. Nothing the broker acknowledged is lost or
 * doubled, each worker stores its own half (as its /metrics says), and WebSocket clients
 * on both API instances see each of their department's vehicles at its final position
 * and nothing else. Needs a real PostgreSQL and the mosquitto binary.
 */
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { mosquittoAvailable } from '../../bench/mosquitto.js';
import { runScaleOut } from '../../bench/scale-out.js';
import { realPostgresConfigured } from '../support/stores.js';

describe.skipIf(!realPostgresConfigured() || !mosquittoAvailable())('scale-out: 2 workers and 2 API instances', () => {
  it('stores every reading of 1,000 devices once and feeds live clients on both instances', async () => {
    const devices = 1000;
    const readingsPerDevice = 10;
    const r = await runScaleOut({ adminUrl: inject('pgAdminUrl'), devices, readingsPerDevice, publishers: 2, clientsPerApi: 2 });
    console.info('scale-out:', JSON.stringify({ ...r, clients: r.clients.map((c) => ({ ...c, departmentId: undefined })) }));

    expect({ lost: r.loss.lost, duplicated: r.loss.duplicated, unexpected: r.loss.unexpected, sample: r.loss.lostSample }).toEqual({
      lost: 0,
      duplicated: 0,
      unexpected: 0,
      sample: [],
    });
    expect(r.loss.published).toBe(devices * readingsPerDevice);
    expect(r.loss.stored).toBe(devices * readingsPerDevice);
    // Both workers took part: each owns about half the devices and stored exactly its readings.
    expect(r.owned[0]! + r.owned[1]!).toBe(devices);
    expect(Math.min(...r.owned)).toBeGreaterThan(devices * 0.4);
    expect(r.storedByWorkerMetrics).toEqual(r.owned.map((n) => n * readingsPerDevice));
    // Live clients on both instances, each with its whole department at the final fix and nothing foreign.
    expect(new Set(r.clients.map((c) => c.api))).toEqual(new Set([1, 2]));
    expect(r.liveClientsByApi).toEqual([2, 2]);
    for (const c of r.clients) {
      expect({ api: c.api, vehicles: c.vehicles, atFinal: c.atFinalPosition, foreign: c.foreign }).toEqual({
        api: c.api,
        vehicles: 100,
        atFinal: 100,
        foreign: 0,
      });
    }
  }, 300_000);
});
