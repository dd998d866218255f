/** Stores readings straight into the telemetry table, as ingest would, for analytics tests. */
import type { Database } from '../../src/db/client.js';
import type { AnalysisReading } from '../../src/domain/trips.js';

export async function insertReadings(
  database: Database,
  ids: { vehicleId: string; deviceId: string },
  readings: readonly AnalysisReading[],
  receivedAtMs = Date.now(),
): Promise<void> {
  const months = new Set(readings.map((r) => new Date(r.fixAtMs).toISOString().slice(0, 7)));
  for (const m of months) await database.query('SELECT armada_ensure_telemetry_partition($1)', [`${m}-15T00:00:00Z`]);
  for (let i = 0; i < readings.length; i += 5000) {
    const chunk = readings.slice(i, i + 5000);
    await database.query(
      `INSERT INTO telemetry (vehicle_id, device_id, fix_at, received_at, lat, lon, speed_kmh, ignition, odometer_km, hdop, satellites,
         fuel_litres, fuel_percent, fuel_used_litres)
       SELECT $1::uuid, $2, * FROM unnest($3::timestamptz[], $4::timestamptz[], $5::float8[], $6::float8[], $7::real[], $8::boolean[],
         $9::float8[], $10::real[], $11::smallint[], $12::real[], $13::real[], $14::float8[])
       ON CONFLICT DO NOTHING`,
      [
        ids.vehicleId,
        ids.deviceId,
        chunk.map((r) => new Date(r.fixAtMs).toISOString()),
        chunk.map(() => new Date(receivedAtMs).toISOString()),
        chunk.map((r) => r.lat),
        chunk.map((r) => r.lon),
        chunk.map((r) => r.speedKmh),
        chunk.map((r) => r.ignition),
        chunk.map((r) => r.odometerKm),
        chunk.map((r) => r.hdop),
        chunk.map((r) => r.satellites),
        chunk.map((r) => r.fuelLitres),
        chunk.map((r) => r.fuelPercent),
        chunk.map((r) => r.fuelUsedLitres),
      ],
    );
  }
  // What ingest does: the tracker was heard from (the rollup job notices this).
  await database.query('UPDATE devices SET last_seen_at = greatest(last_seen_at, $2) WHERE id = $1', [
    ids.deviceId,
    new Date(receivedAtMs).toISOString(),
  ]);
}
