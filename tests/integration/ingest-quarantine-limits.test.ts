/**
 * The quarantine's growth is bounded: a device's rejects beyond its cap per period are
 * counted on one row, not stored; rows older than the retention are deleted. Both show
 * in /metrics. Against the run's real PostgreSQL and Mosquitto (or PGlite and the
 * embedded broker on a machine without them).
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/domain/topics.js';
import { connectDevice, registerVehicleWithDevice, startTestService, waitFor, type TestService } from '../support/service.js';

const CAP = 5;
let t: TestService;
let device: Awaited<ReturnType<typeof registerVehicleWithDevice>>;
let client: MqttClient;

beforeAll(async () => {
  t = await startTestService({
    env: { QUARANTINE_DEVICE_CAP: String(CAP), QUARANTINE_CAP_PERIOD_MIN: '1440', QUARANTINE_RETENTION_DAYS: '30' },
  });
  device = await registerVehicleWithDevice(t);
  await t.services.ingest!.devicesChanged();
  client = await connectDevice(t.deviceMqttUrl, device.deviceId, device.secret);
});

afterAll(async () => {
  await client?.endAsync();
  await t?.close();
});

const query = <T>(sql: string, params: unknown[] = []) => t.services.database.query<T & Record<string, unknown>>(sql, params);
const metricsText = async () => (await fetch(`${t.services.httpUrl}/metrics`)).text();

describe('quarantine limits', () => {
  it("stores a device's first rejects up to the cap and counts the rest on one row", async () => {
    const ts = new Date(Date.now() - 60_000).toISOString();
    for (let n = 0; n < 20; n++) {
      await client.publishAsync(telemetryTopic(device.deviceId), JSON.stringify({ ts, lat: 91, lon: 123.6, n }), { qos: 1 });
    }
    const rows = async () =>
      query<{ reason: string; rows: number; seen: number }>(
        `SELECT reason, count(*)::int AS rows, sum(times_seen)::int AS seen FROM quarantine
          WHERE device_id = $1 GROUP BY reason ORDER BY reason`,
        [device.deviceId],
      );
    await waitFor(async () => (await rows()).reduce((sum, r) => sum + r.seen, 0) === 20, 'all 20 rejects accounted for');
    expect(await rows()).toEqual([
      { reason: 'invalid_coordinates', rows: CAP, seen: CAP },
      { reason: 'quarantine_cap', rows: 1, seen: 20 - CAP },
    ]);
    const [capRow] = await query<{ detail: string }>(`SELECT detail FROM quarantine WHERE reason = 'quarantine_cap'`);
    expect(capRow!.detail).toMatch(new RegExp(`^more than ${CAP} rejects in 1440 min from ${device.deviceId} since `));
    const text = await metricsText();
    expect(text).toContain(`armada_ingest_quarantine_capped_total{reason="invalid_coordinates"} ${20 - CAP}`);
    expect(text).toContain(`armada_quarantine_device_cap ${CAP}`);
  });

  it('deletes rows whose payload last came longer ago than the retention', async () => {
    const insert = (daysAgo: number, n: number) =>
      query(
        `INSERT INTO quarantine (received_at, last_received_at, topic, device_id, reason, detail, payload, payload_bytes, payload_sha256)
         VALUES (now() - make_interval(days => $1), now() - make_interval(days => $1), 'old/topic', NULL, 'not_json', 'old',
                 $2, 3, sha256($2))`,
        [daysAgo, Buffer.from(`old ${n}`)],
      );
    for (let n = 0; n < 3; n++) await insert(40, n);
    await insert(29, 3);
    const before = Number((await query<{ n: number }>('SELECT count(*)::int AS n FROM quarantine'))[0]!.n);
    expect(await t.services.ingest!.expireQuarantine()).toBe(3);
    const left = await query<{ n: number }>(`SELECT count(*)::int AS n FROM quarantine`);
    expect(Number(left[0]!.n)).toBe(before - 3);
    expect(Number((await query<{ n: number }>(`SELECT count(*)::int AS n FROM quarantine WHERE topic = 'old/topic'`))[0]!.n)).toBe(1);
    const text = await metricsText();
    expect(text).toContain('armada_quarantine_expired_total 3');
    expect(text).toContain('armada_quarantine_retention_days 30');
  });
});
