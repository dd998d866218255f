/**
 * The negative control of the crash test: an ingest that acknowledges each message as
 * it arrives (MQTT.js's default) and stores it a moment later. Killed at the wrong time
 * it loses what it acknowledged and had not yet stored; the checker must see that.
 * Run as its own process: node --import tsx tests/support/naive-ingest.ts
 */
import mqtt from 'mqtt';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
pool.on('error', () => undefined);
const devices = new Map<string, string>();
for (const row of (await pool.query<{ id: string; vehicle_id: string }>('SELECT id, vehicle_id FROM devices')).rows)
  devices.set(row.id, row.vehicle_id);

const client = await mqtt.connectAsync(process.env.MQTT_URL!, {
  clientId: 'naive-ingest',
  clean: false,
  protocolVersion: 4,
  reconnectPeriod: 0,
});
client.on('message', (topic, payload) => {
  const deviceId = topic.split('/')[3]!;
  const r = JSON.parse(payload.toString()) as { ts: string; lat: number; lon: number; seq: number };
  setTimeout(() => {
    void pool
      .query(
        'INSERT INTO telemetry (vehicle_id, device_id, fix_at, received_at, lat, lon, seq) VALUES ($1, $2, $3, now(), $4, $5, $6) ON CONFLICT DO NOTHING',
        [devices.get(deviceId), deviceId, r.ts, r.lat, r.lon, r.seq],
      )
      .catch(() => undefined);
  }, 50);
});
await client.subscribeAsync('fleet/v1/devices/+/telemetry', { qos: 1 });
process.stdout.write('ready\n');
