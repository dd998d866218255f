/**
 * The rest of the ingest contract end to end: OwnTracks phones, per-device seq gaps,
 * the filters that need a history, late data marked for the rollups, a device
 * flushing hours of buffered readings amid live traffic, the quarantine's payload cap
 * and its one row per repeated payload, and the metrics.
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from '../../src/domain/telemetry.js';
import { telemetryTopic } from '../../src/domain/topics.js';
import { QUARANTINE_PAYLOAD_MAX_BYTES, telemetryWriter } from '../../src/repositories/telemetry.js';
import { connectDevice, registerVehicleWithDevice, startTestService, type TestService, waitFor } from '../support/service.js';
import { realBrokerUrl } from '../support/stores.js';

let t: TestService;

beforeAll(async () => {
  t = await startTestService();
});

afterAll(async () => {
  await t?.close();
});

const rowsFor = async (vehicleId: string) =>
  Number(
    (await t.services.database.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry WHERE vehicle_id = $1', [vehicleId]))[0]!.n,
  );
const quarantined = async (deviceId: string, reason: string) =>
  Number(
    (
      await t.services.database.query<{ n: number }>('SELECT count(*)::int AS n FROM quarantine WHERE device_id = $1 AND reason = $2', [
        deviceId,
        reason,
      ])
    )[0]!.n,
  );

describe('OwnTracks', () => {
  it("stores a location from a phone set up with the app's defaults, and quarantines everything else it sends", async () => {
    const dep = (await (await t.api('/api/v1/departments', { method: 'POST', json: { code: 'OWN', name: 'Phones' } })).json()) as {
      id: string;
    };
    const veh = (await (
      await t.api('/api/v1/vehicles', {
        method: 'POST',
        json: {
          plateNumber: 'DH 77 OT',
          departmentId: dep.id,
          kind: 'motorcycle',
          fuelType: 'pertalite',
          tankCapacityLitres: 4.5,
          ratedLitresPer100Km: 2.2,
          idleLitresPerHour: 0.1,
          monthlyAllocationLitres: 40,
        },
      })
    ).json()) as { id: string };
    const res = await t.api('/api/v1/devices', { method: 'POST', json: { id: 'budi/phone', vehicleId: veh.id, protocol: 'owntracks' } });
    expect(res.status).toBe(201);
    const device = (await res.json()) as { secret: string; mqtt: { username: string; topic: string } };
    // The app publishes on owntracks/%u/%d: user name `budi`, device id `phone`.
    expect(device.mqtt).toEqual({ username: 'budi', topic: 'owntracks/budi/phone' });

    const phone = await connectDevice(t.deviceMqttUrl, 'budi', device.secret);
    const tst = Math.floor(Date.now() / 1000) - 5;
    const send = (topic: string, message: unknown) => phone.publishAsync(topic, JSON.stringify(message), { qos: 1 });
    const location = { _type: 'location', lat: -10.1581, lon: 123.6061, tst, vel: 18, cog: 90, alt: 40, acc: 8, batt: 77, tid: 'bd' };
    await send('owntracks/budi/phone', location);
    await send('owntracks/budi/phone', { _type: 'lwt', tst });
    await send('owntracks/budi/phone/event', { _type: 'transition', event: 'enter', desc: 'Kantor', tst, lat: -10.1581, lon: 123.6061 });
    await send('owntracks/budi/phone', { _type: 'location', lat: -10.1582, lon: 123.6062, tst: tst * 1000 });
    await phone.endAsync();

    const latest = await waitFor(async () => {
      const rows = (await (await t.api('/api/v1/positions/latest')).json()) as Array<{
        vehicleId: string;
        at: string;
        speedKmh: number;
        lat: number;
      }>;
      return rows.find((r) => r.vehicleId === veh.id);
    }, 'the phone position');
    expect(latest).toMatchObject({ at: new Date(tst * 1000).toISOString(), speedKmh: 18, lat: -10.1581 });
    const [row] = await t.services.database.query('SELECT attributes FROM telemetry WHERE vehicle_id = $1', [veh.id]);
    expect(row!.attributes).toEqual({ accuracyM: 8, phoneBatteryPercent: 77, tid: 'bd' });
    type Track = { features: Array<{ properties: Record<string, unknown> }> };
    const track = (await (await t.api(`/api/v1/vehicles/${veh.id}/track`)).json()) as Track;
    expect(track.features.map((f) => f.properties)).toEqual([
      {
        at: new Date(tst * 1000).toISOString(),
        speedKmh: 18,
        headingDeg: 90,
        fuelLitres: null,
        ignition: null,
        altitudeM: 40,
        accuracyM: 8,
        phoneBatteryPercent: 77,
      },
    ]);
    await waitFor(async () => (await quarantined('budi/phone', 'not_a_location')) === 2, 'the lwt and the event in quarantine');
    await waitFor(async () => (await quarantined('budi/phone', 'timestamp_in_milliseconds')) === 1, 'the tst in milliseconds');
  });

  it('refuses a second device whose MQTT user name would be taken', async () => {
    const d = await registerVehicleWithDevice(t, { deviceId: 'sari' });
    const json = { id: 'sari/phone', vehicleId: d.vehicleId, protocol: 'owntracks' };
    const res = await t.api('/api/v1/devices', { method: 'POST', json });
    expect(res.status).toBe(409);
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toContain('The MQTT user name "sari" is the device sari\'s');
  });
});

describe('seq gaps, filters and late data', () => {
  it('counts readings missing from the seq counter, and counts a late one back', async () => {
    const d = await registerVehicleWithDevice(t);
    const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
    const base = Date.now() - 600_000;
    const send = (seq: number) =>
      client.publishAsync(
        telemetryTopic(d.deviceId),
        JSON.stringify({ ts: new Date(base + seq * 10_000).toISOString(), lat: -10.17, lon: 123.6 + seq * 1e-4, seq }),
        { qos: 1 },
      );
    const missing = async () => {
      const list = (await (await t.api(`/api/v1/vehicles/${d.vehicleId}/devices`)).json()) as Array<{ seqMissing: number | null }>;
      return list[0]!.seqMissing;
    };
    for (const seq of [1, 2, 5, 6]) await send(seq);
    await waitFor(async () => (await rowsFor(d.vehicleId)) === 4, 'four readings');
    // The devices' figures are written behind the readings: idle() writes them now.
    await t.services.ingest!.idle();
    expect(await missing()).toBe(2);
    await send(3);
    await waitFor(async () => (await rowsFor(d.vehicleId)) === 5, 'the late reading');
    await t.services.ingest!.idle();
    expect(await missing()).toBe(1);
    await client.endAsync();
    const metrics = await (await fetch(`${t.services.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^armada_ingest_seq_missing_total [1-9]/m);
    expect(metrics).toMatch(/^armada_ingest_readings_stored_total [1-9]/m);
    expect(metrics).toContain('armada_ingest_commit_seconds_bucket');
  });

  it('quarantines a jump no vehicle can make and a reading older than the limit, with counts by reason', async () => {
    const d = await registerVehicleWithDevice(t);
    const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
    const now = Date.now();
    const at = (s: number) => new Date(now - 60_000 + s * 1000).toISOString();
    await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: at(0), lat: -10.17, lon: 123.6 }), { qos: 1 });
    // 10 s later, 55 km away (Kupang to Soe is further, but not in 10 seconds).
    await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: at(10), lat: -10.17, lon: 124.1 }), { qos: 1 });
    await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: at(20), lat: -10.1702, lon: 123.6003 }), { qos: 1 });
    await client.publishAsync(
      telemetryTopic(d.deviceId),
      JSON.stringify({ ts: new Date(now - 500 * 86_400_000).toISOString(), lat: -10.17, lon: 123.6 }),
      { qos: 1 },
    );
    await client.endAsync();
    await waitFor(async () => (await quarantined(d.deviceId, 'implausible_jump')) === 1, 'the jump in quarantine');
    await waitFor(async () => (await quarantined(d.deviceId, 'too_old')) === 1, 'the old reading in quarantine');
    expect(await rowsFor(d.vehicleId)).toBe(2);
    const metrics = await (await fetch(`${t.services.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^armada_ingest_quarantined_total\{reason="implausible_jump"\} [1-9]/m);
  });

  it('marks past report days that received readings late, and the rollup job recomputes them', async () => {
    const d = await registerVehicleWithDevice(t);
    const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
    // Three days ago at noon in Kupang (UTC+8) is 04:00 UTC that day.
    const day = new Date(Date.now() - 3 * 86_400_000);
    const noonWita = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 4));
    await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: noonWita.toISOString(), lat: -10.17, lon: 123.6 }), {
      qos: 1,
    });
    await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: new Date().toISOString(), lat: -10.17, lon: 123.6 }), {
      qos: 1,
    });
    await client.endAsync();
    await waitFor(async () => (await rowsFor(d.vehicleId)) === 2, 'both readings');
    // The mark tells the rollup job to recompute that day; the job (which may already have
    // run by itself) then has a rollup for it and has cleared the mark.
    await t.services.rollups.runOnce();
    const lateDay = noonWita.toISOString().slice(0, 10);
    const rolled = await t.services.database.query(`SELECT 1 FROM vehicle_day_rollups WHERE vehicle_id = $1 AND day = $2`, [
      d.vehicleId,
      lateDay,
    ]);
    expect(rolled).toHaveLength(1);
    const marks = await t.services.database.query(`SELECT 1 FROM telemetry_late_days WHERE vehicle_id = $1`, [d.vehicleId]);
    expect(marks).toHaveLength(0);
  });
});

describe('quarantine', () => {
  /** The contract (issue 3, GET /quarantine): a quarantined payload is kept up to 16 KiB. */
  const CAP = 16 * 1024;
  const quarantinedTotal = async (reason: string) => {
    const text = await (await fetch(`${t.services.httpUrl}/metrics`)).text();
    const m = new RegExp(`^armada_ingest_quarantined_total\\{reason="${reason}"\\} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };

  it('keeps a broken message cut to the cap, with its whole size, and counts its reason', async () => {
    expect(QUARANTINE_PAYLOAD_MAX_BYTES).toBe(CAP);
    const d = await registerVehicleWithDevice(t);
    // Not JSON, 40 KB: over the quarantine cap, under the parser's limit. Random text, so a
    // wrong piece of it (or a copy of something else) cannot pass for the first 16 KiB.
    const broken = Buffer.from(`{"ts": "2026-11-27T01:02:03Z", "lat": -10.17, "lon": ${randomBytes(30_000).toString('base64')}`);
    // Over the parser's limit as well: refused unread, kept the same way. (Just over it: a
    // packet over the brokers' own limit, 257 KiB, closes the connection instead.)
    const huge = Buffer.concat([
      Buffer.from('{"pad": "'),
      Buffer.from(randomBytes((MAX_PAYLOAD_BYTES * 3) / 4).toString('base64')),
      Buffer.from('"}'),
    ]);
    expect(broken.byteLength).toBeGreaterThan(2 * CAP);
    expect(huge.byteLength).toBeGreaterThan(MAX_PAYLOAD_BYTES);
    const before = { notJson: await quarantinedTotal('not_json'), tooLarge: await quarantinedTotal('payload_too_large') };

    const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
    await client.publishAsync(telemetryTopic(d.deviceId), broken, { qos: 1 });
    await client.publishAsync(telemetryTopic(d.deviceId), huge, { qos: 1 });
    await client.endAsync();

    type Entry = { reason: string; topic: string; deviceId: string; payloadBase64: string; payloadBytes: number };
    const entries = await waitFor(async () => {
      const list = (await (await t.api(`/api/v1/quarantine?deviceId=${encodeURIComponent(d.deviceId)}`)).json()) as Entry[];
      return list.length === 2 ? list : undefined;
    }, 'both messages in quarantine');
    for (const [reason, sent] of [
      ['not_json', broken],
      ['payload_too_large', huge],
    ] as const) {
      const entry = entries.find((e) => e.reason === reason);
      expect(entry, reason).toMatchObject({ topic: telemetryTopic(d.deviceId), deviceId: d.deviceId, payloadBytes: sent.byteLength });
      const kept = Buffer.from(entry!.payloadBase64, 'base64');
      expect(kept.byteLength, reason).toBe(CAP);
      expect(kept.equals(sent.subarray(0, CAP)), `${reason}: the first ${CAP} bytes as sent`).toBe(true);
    }
    // The table agrees with the API (what is stored, not only what is answered).
    const rows = await t.services.database.query<{ reason: string; kept: number; payload_bytes: number }>(
      'SELECT reason, octet_length(payload)::int AS kept, payload_bytes FROM quarantine WHERE device_id = $1 ORDER BY reason',
      [d.deviceId],
    );
    expect(rows).toEqual([
      { reason: 'not_json', kept: CAP, payload_bytes: broken.byteLength },
      { reason: 'payload_too_large', kept: CAP, payload_bytes: huge.byteLength },
    ]);
    // Counted by reason in /metrics (after the commit: wait for the counter too).
    await waitFor(async () => (await quarantinedTotal('not_json')) === before.notJson + 1, 'not_json counted once more');
    await waitFor(async () => (await quarantinedTotal('payload_too_large')) === before.tooLarge + 1, 'payload_too_large counted once more');
    expect(await rowsFor(d.vehicleId)).toBe(0);
  });

  it('keeps a payload that comes again (a redelivery, a device repeating itself) as one row, counted', async () => {
    const d = await registerVehicleWithDevice(t);
    const topic = telemetryTopic(d.deviceId);
    const broken = Buffer.from(`{"ts": "2026-11-27T01:02:03Z", "lat": -10.17, "lon": ${randomBytes(8).toString('hex')}`);
    const other = Buffer.from(`not json either ${randomBytes(8).toString('hex')}`);
    const before = await quarantinedTotal('not_json');
    const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
    // Twice in one go (likely one batch), once more later (another batch), and one other payload.
    await Promise.all([client.publishAsync(topic, broken, { qos: 1 }), client.publishAsync(topic, broken, { qos: 1 })]);
    await waitFor(async () => (await quarantinedTotal('not_json')) >= before + 2, 'the first two');
    await client.publishAsync(topic, broken, { qos: 1 });
    await client.publishAsync(topic, other, { qos: 1 });
    await client.endAsync();
    await waitFor(async () => (await quarantinedTotal('not_json')) === before + 4, 'all four counted in /metrics');

    type Entry = { payloadBase64: string; timesSeen: number; receivedAt: string; lastReceivedAt: string };
    const entries = (await (await t.api(`/api/v1/quarantine?deviceId=${encodeURIComponent(d.deviceId)}`)).json()) as Entry[];
    const find = (b: Buffer) => entries.filter((e) => Buffer.from(e.payloadBase64, 'base64').equals(b));
    expect(entries).toHaveLength(2);
    expect(find(broken)).toHaveLength(1);
    expect(find(broken)[0]!.timesSeen).toBe(3);
    expect(Date.parse(find(broken)[0]!.lastReceivedAt)).toBeGreaterThan(Date.parse(find(broken)[0]!.receivedAt));
    expect(find(other)).toMatchObject([{ timesSeen: 1 }]);

    // The writer itself: the same payload twice in one batch, then that batch delivered again
    // (the worker died before its PUBACKs). One row, seen three times.
    const writer = telemetryWriter(t.services.database, { reportTz: 'Asia/Makassar' });
    const entry = {
      receivedAtMs: Date.now(),
      topic,
      deviceId: d.deviceId,
      reason: 'not_json' as const,
      detail: 'again',
      payload: Buffer.from(`third ${randomBytes(8).toString('hex')}`),
    };
    await writer.writeBatch([], [entry, entry]);
    await writer.writeBatch([], [entry]);
    const rows = await t.services.database.query<{ times_seen: number }>(
      "SELECT times_seen FROM quarantine WHERE device_id = $1 AND reason = 'not_json' ORDER BY times_seen",
      [d.deviceId],
    );
    expect(rows.map((r) => r.times_seen)).toEqual([1, 3, 3]);

    // First seen three days ago and again now: it is in today's list (the default window),
    // listed by the last time it came.
    const old = { ...entry, payload: Buffer.from(`old ${randomBytes(8).toString('hex')}`), receivedAtMs: Date.now() - 3 * 86_400_000 };
    await writer.writeBatch([], [old]);
    await writer.writeBatch([], [{ ...old, receivedAtMs: Date.now() }]);
    const listed = ((await (await t.api(`/api/v1/quarantine?deviceId=${encodeURIComponent(d.deviceId)}`)).json()) as Entry[]).filter((e) =>
      Buffer.from(e.payloadBase64, 'base64').equals(old.payload),
    );
    expect(listed).toHaveLength(1);
    expect(listed[0]!.timesSeen).toBe(2);
    expect(Date.parse(listed[0]!.receivedAt)).toBe(old.receivedAtMs);
    expect(Date.now() - Date.parse(listed[0]!.lastReceivedAt)).toBeLessThan(60_000);
  });
});

describe('offline flush', () => {
  it('stores 8 hours buffered by 50 devices while their live readings keep arriving, each once, and keeps the newest live fix latest', async () => {
    const DEVICES = 50;
    const TICKS = 6;
    const intervalMs = 30_000;
    const perDevice = (8 * 3_600_000) / intervalMs; // 960 buffered readings
    const chunk = perDevice / TICKS; // 160 a message: the backlog goes out in six arrays
    const devices = await Promise.all(Array.from({ length: DEVICES }, () => registerVehicleWithDevice(t)));
    const nowMs = Date.now();
    // The backlog: 8 hours up to 10 minutes ago. Live fixes: one a minute since, the newest a minute ago.
    const startMs = nowMs - 8 * 3_600_000 - 10 * 60_000;
    const liveAt = (k: number) => nowMs - (TICKS + 1 - k) * 60_000;
    const home = { lat: -10.1702, lon: 123.6078 };
    // A track that ends where the device is now (near its live fixes): physically possible.
    const buffered = (i: number, j: number) => ({
      ts: new Date(startMs + j * intervalMs).toISOString(),
      lat: home.lat - (perDevice - j) * 1e-5,
      lon: home.lon + i * 1e-5,
      speedKmh: 25,
      seq: j + 1,
    });
    const live = (i: number, k: number) => ({
      ts: new Date(liveAt(k)).toISOString(),
      lat: home.lat + (k + 1) * 1e-5,
      lon: home.lon + i * 1e-5,
      speedKmh: 10 + k,
      seq: perDevice + k + 1,
    });
    const clients = await Promise.all(devices.map((d) => connectDevice(t.deviceMqttUrl, d.deviceId, d.secret)));
    const ids = devices.map((d) => d.vehicleId);
    const sends: Array<Promise<unknown>> = [];
    const send = (i: number, payload: unknown) =>
      sends.push(clients[i]!.publishAsync(telemetryTopic(devices[i]!.deviceId), JSON.stringify(payload), { qos: 1 }));
    const part = (i: number, k: number) => Array.from({ length: chunk }, (_, n) => buffered(i, k * chunk + n));
    // Each tick, every device sends a live fix and the part of its backlog before (80 minutes);
    // half the devices the fix first, half the backlog first. Ticks are apart in time: the live
    // traffic arrives while earlier parts of the flush are being stored.
    for (let k = 0; k < TICKS; k++) {
      devices.forEach((_, i) => {
        const messages = k === 0 ? [live(i, k)] : i % 2 === 0 ? [live(i, k), part(i, k - 1)] : [part(i, k - 1), live(i, k)];
        for (const m of messages) send(i, m);
      });
      await new Promise((r) => setTimeout(r, 150));
    }
    // The flush ends after the newest live fix has been stored: its last part, older than every
    // live fix, comes in a later commit and must not take the latest state back.
    const newestStored = async () =>
      Number(
        (
          await t.services.database.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM vehicle_latest WHERE vehicle_id = ANY($1::uuid[]) AND fix_at = $2',
            [ids, new Date(liveAt(TICKS - 1)).toISOString()],
          )
        )[0]!.n,
      );
    await waitFor(async () => (await newestStored()) === DEVICES, 'the newest live fixes', 60_000);
    devices.forEach((_, i) => send(i, part(i, TICKS - 1)));
    const expected = DEVICES * (perDevice + TICKS);
    const total = async () =>
      Number(
        (
          await t.services.database.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry WHERE vehicle_id = ANY($1::uuid[])', [
            ids,
          ])
        )[0]!.n,
      );
    await waitFor(async () => (await total()) >= expected, 'every buffered and live reading', 60_000).catch(async (err: Error) => {
      // Say what did arrive, so a failure shows where the readings stopped.
      const quarantined = await t.services.database.query('SELECT reason, count(*)::int AS n FROM quarantine GROUP BY reason');
      const counters = t.services.ingest?.counters;
      throw new Error(
        `${err.message}: ${await total()} of ${expected} stored; quarantine ${JSON.stringify(quarantined)}; worker ${JSON.stringify(counters)}`,
      );
    });
    await t.services.ingest!.idle();
    // All stored, none twice: each device's seq numbers exactly 1..960+6, each once, at its own fix time.
    const perVehicle = await t.services.database.query<{
      vehicle_id: string;
      n: number;
      seqs: number;
      min_seq: number;
      max_seq: number;
      off_time: number;
    }>(
      `SELECT vehicle_id, count(*)::int AS n, count(DISTINCT seq)::int AS seqs, min(seq)::int AS min_seq, max(seq)::int AS max_seq,
              count(*) FILTER (WHERE seq <= $2 AND fix_at <> to_timestamp(($3::float8 + (seq - 1) * $4) / 1000.0))::int AS off_time
         FROM telemetry WHERE vehicle_id = ANY($1::uuid[]) GROUP BY vehicle_id`,
      [ids, perDevice, startMs, intervalMs],
    );
    expect(perVehicle).toHaveLength(DEVICES);
    for (const row of perVehicle) {
      expect(row, row.vehicle_id).toMatchObject({
        n: perDevice + TICKS,
        seqs: perDevice + TICKS,
        min_seq: 1,
        max_seq: perDevice + TICKS,
        off_time: 0,
      });
    }
    // Each vehicle's latest state is its newest live fix, whatever came in after it.
    const latest = await t.services.database.query<{
      vehicle_id: string;
      fix_at: Date | string;
      lat: number;
      lon: number;
      speed_kmh: number;
    }>('SELECT vehicle_id, fix_at, lat, lon, speed_kmh FROM vehicle_latest WHERE vehicle_id = ANY($1::uuid[])', [ids]);
    expect(latest).toHaveLength(DEVICES);
    for (const row of latest) {
      const i = ids.indexOf(row.vehicle_id);
      const newest = live(i, TICKS - 1);
      expect({ at: new Date(row.fix_at).toISOString(), lat: row.lat, lon: row.lon, speedKmh: row.speed_kmh }, `vehicle ${i}`).toEqual({
        at: newest.ts,
        lat: newest.lat,
        lon: newest.lon,
        speedKmh: newest.speedKmh,
      });
    }
    const list = (await (await t.api(`/api/v1/vehicles/${devices[0]!.vehicleId}/devices`)).json()) as Array<{ seqMissing: number }>;
    expect(list[0]!.seqMissing).toBe(0);
    await Promise.all(clients.map((c) => c.endAsync()));
  }, 120_000);
});

describe.skipIf(!realBrokerUrl())('per-device subscriptions on a shared broker (INGEST_SUBSCRIPTIONS=per-device)', () => {
  it('hears a device registered through the API from its first message, and nothing of devices it does not know', async () => {
    expect(t.services.config.ingestSubscriptions).toBe('per-device');
    const before = t.services.ingest!.counters.received;
    // Another deployment's tracker on the same broker: not subscribed, so never delivered here.
    const stranger = await mqtt.connectAsync(t.deviceMqttUrl, { protocolVersion: 4, reconnectPeriod: 0 });
    await stranger.publishAsync(
      telemetryTopic(`elsewhere-${Date.now()}`),
      JSON.stringify({ ts: new Date().toISOString(), lat: -10.17, lon: 123.6 }),
      { qos: 1 },
    );
    // Registered a moment ago: POST /devices answered only once the worker had subscribed.
    const d = await registerVehicleWithDevice(t);
    const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
    await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: new Date().toISOString(), lat: -10.17, lon: 123.6 }), {
      qos: 1,
    });
    await client.endAsync();
    await stranger.endAsync();
    await waitFor(
      async () =>
        Number(
          (
            await t.services.database.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry WHERE vehicle_id = $1', [d.vehicleId])
          )[0]!.n,
        ) === 1,
      "the new device's first reading",
    );
    await t.services.ingest!.idle();
    expect(t.services.ingest!.counters.received - before).toBe(1);
  });
});
