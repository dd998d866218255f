/**
 * Poison messages in a stream from 50 devices: a payload nested 5,000 deep, a string
 * holding U+0000, raw NUL bytes, and a lone UTF-16 surrogate that the parser lets through
 * but PostgreSQL refuses (22P02), which fails the whole batch's statement. None of them may
 * stop the others: every other reading is stored, none twice; the write poison is retried
 * alone, quarantined as `poison` and acknowledged. Against the run's real PostgreSQL and
 * Mosquitto (or PGlite and the embedded broker on a machine without them).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/domain/topics.js';
import { startTestService, waitFor, type TestService } from '../support/service.js';
import { seedStreamDevices } from '../support/seed-devices.js';

const DEVICES = 50;
const READINGS_PER_DEVICE = 20;
/** Every tenth device also sends each kind of poison. */
const POISONERS = [0, 10, 20, 30, 40];

let t: TestService;
let ids: string[];
let clients: MqttClient[];

beforeAll(async () => {
  t = await startTestService({ roles: { api: false, worker: true } });
  ids = await seedStreamDevices(t.testDb, DEVICES, `poison-${Date.now().toString(36)}`);
  await t.services.ingest!.devicesChanged();
  clients = await Promise.all(
    ids.map((id) =>
      mqtt.connectAsync(t.deviceMqttUrl, { clientId: id, username: id, password: 'unused', protocolVersion: 4, reconnectPeriod: 0 }),
    ),
  );
});

afterAll(async () => {
  await Promise.all((clients ?? []).map((c) => c.endAsync()));
  await t?.close();
});

const query = <T>(sql: string, params: unknown[] = []) => t.services.database.query<T & Record<string, unknown>>(sql, params);

describe('poison messages in a stream', () => {
  it('quarantine the poison, store every other reading once, and stop nothing', async () => {
    const baseMs = Date.now() - 3_600_000;
    const reading = (i: number, seq: number, extra: Record<string, unknown> = {}) => ({
      ts: new Date(baseMs + seq * 1000).toISOString(),
      lat: -10.17 - i * 1e-3,
      lon: 123.6 + seq * 1e-5,
      speedKmh: 20,
      seq,
      ...extra,
    });
    const poison = (i: number): Array<string | Buffer> => [
      // ~10 KB: an array whose element is an array nested 5,000 deep.
      `[${'['.repeat(5000)}${']'.repeat(5000)}]`,
      // A good reading and one whose note holds U+0000: the good one is stored.
      JSON.stringify([reading(i, 100), reading(i, 101, { note: 'a\u0000b' })]),
      // Raw NUL bytes: not JSON, and JSON.parse quotes them in its message.
      Buffer.from([0, 0, 0x7b]),
      // Valid to the parser; PostgreSQL refuses the unpaired surrogate in the batch's JSON.
      JSON.stringify(reading(i, 102, { note: 'x\ud800y' })),
    ];
    const published: Array<Promise<unknown>> = [];
    for (let seq = 1; seq <= READINGS_PER_DEVICE; seq++) {
      ids.forEach((id, i) => {
        published.push(clients[i]!.publishAsync(telemetryTopic(id), JSON.stringify(reading(i, seq)), { qos: 1 }));
        // Mid-stream, among the others' readings.
        if (seq === READINGS_PER_DEVICE / 2 && POISONERS.includes(i)) {
          for (const p of poison(i)) published.push(clients[i]!.publishAsync(telemetryTopic(id), p, { qos: 1 }));
        }
      });
    }
    // With the embedded broker a device's PUBACK waits for the commit: poison must be acknowledged too.
    await Promise.all(published);

    const expected = DEVICES * READINGS_PER_DEVICE + POISONERS.length; // the good halves of the NUL arrays
    const stored = async () =>
      (
        await query<{ rows: number; distinct: number }>(
          'SELECT count(*)::int AS rows, count(DISTINCT (device_id, seq))::int AS distinct FROM telemetry',
        )
      )[0]!;
    const quarantined = async () =>
      Object.fromEntries(
        (
          await query<{ reason: string; n: number; seen: number }>(
            'SELECT reason, count(*)::int AS n, sum(times_seen)::int AS seen FROM quarantine GROUP BY reason ORDER BY reason',
          )
        ).map((r) => [r.reason, { rows: r.n, seen: r.seen }]),
      );
    await waitFor(
      async () => (await stored()).rows >= expected && (await quarantined()).poison?.rows === POISONERS.length,
      'every reading stored, the poison quarantined',
      60_000,
    );
    await t.services.ingest!.idle();

    expect(await stored()).toEqual({ rows: expected, distinct: expected });
    const everyDevice = await query<{ n: number }>('SELECT count(DISTINCT device_id)::int AS n FROM telemetry WHERE seq <= $1', [
      READINGS_PER_DEVICE,
    ]);
    expect(everyDevice[0]!.n).toBe(DEVICES);
    // One row each, seen once: nothing was redelivered.
    const once = { rows: POISONERS.length, seen: POISONERS.length };
    expect(await quarantined()).toEqual({ too_deeply_nested: once, nul_character: once, not_json: once, poison: once });
    const [poisonRow] = await query<{ detail: string; device_id: string; payload: Uint8Array }>(
      `SELECT detail, device_id, payload FROM quarantine WHERE reason = 'poison' AND device_id = $1`,
      [ids[0]],
    );
    expect(poisonRow!.detail).toMatch(/^writing this message alone failed 3 times: 22P02 /);
    expect(JSON.parse(Buffer.from(poisonRow!.payload).toString()).seq).toBe(102);
    const [notJson] = await query<{ detail: string }>(`SELECT detail FROM quarantine WHERE reason = 'not_json' AND device_id = $1`, [
      ids[0],
    ]);
    expect(notJson!.detail).toContain('\\u0000');
    const counters = t.services.ingest!.counters;
    expect(counters.poisoned).toBe(POISONERS.length);
    // Not taken for a database outage: no batch was handed back for redelivery.
    expect(counters.failedBatches).toBe(0);
  });
});
