/** The trips and stops of a report day, cut at its midnights and stored in order. */
import type { Queryable } from '../../db/client.js';
import type { SegmentPiece } from '../../domain/analysis.js';
import type { LocalDay } from '../../domain/report-time.js';
import { iso, num } from './values.js';

export async function deleteSegments(tx: Queryable, vehicleId: string, day: LocalDay): Promise<void> {
  await tx.query('DELETE FROM vehicle_day_segments WHERE vehicle_id = $1 AND day = $2', [vehicleId, day]);
}

export async function insertSegments(tx: Queryable, vehicleId: string, day: LocalDay, segs: readonly SegmentPiece[]): Promise<void> {
  if (segs.length > 0) {
    await tx.query(
      `INSERT INTO vehicle_day_segments (vehicle_id, day, seq, kind, start_at, end_at, clipped_start, clipped_end, distance_km, max_speed_kmh,
         fuel_used_litres, start_lat, start_lon, end_lat, end_lon, driving_s, idle_s, engine_on_s)
       SELECT $1::uuid, $2::date, * FROM unnest($3::smallint[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::boolean[], $8::boolean[],
         $9::float8[], $10::real[], $11::float8[], $12::float8[], $13::float8[], $14::float8[], $15::float8[], $16::float8[], $17::float8[], $18::float8[])`,
      [
        vehicleId,
        day,
        segs.map((_, i) => i),
        segs.map((s) => s.kind),
        segs.map((s) => iso(s.startMs)),
        segs.map((s) => iso(s.endMs)),
        segs.map((s) => s.clippedStart),
        segs.map((s) => s.clippedEnd),
        segs.map((s) => s.distanceM / 1000),
        segs.map((s) => s.maxSpeedKmh),
        segs.map((s) => s.fuelUsedLitres),
        segs.map((s) => s.startLat),
        segs.map((s) => s.startLon),
        segs.map((s) => s.endLat),
        segs.map((s) => s.endLon),
        segs.map((s) => s.drivingS),
        segs.map((s) => s.idleS),
        segs.map((s) => s.engineOnS),
      ],
    );
  }
}

/** The pieces of [firstDay, lastDay], by day, in order. */
export async function readSegments(
  tx: Queryable,
  vehicleId: string,
  firstDay: LocalDay,
  lastDay: LocalDay,
): Promise<Map<LocalDay, SegmentPiece[]>> {
  const rows = await tx.query(
    `SELECT day::text AS day, kind, (extract(epoch from start_at) * 1000)::float8 AS s, (extract(epoch from end_at) * 1000)::float8 AS e,
            clipped_start, clipped_end, distance_km, max_speed_kmh, fuel_used_litres, start_lat, start_lon, end_lat, end_lon,
            driving_s, idle_s, engine_on_s
       FROM vehicle_day_segments WHERE vehicle_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day, seq`,
    [vehicleId, firstDay, lastDay],
  );
  const out = new Map<LocalDay, SegmentPiece[]>();
  for (const r of rows) {
    const day = String(r.day);
    let list = out.get(day);
    if (!list) out.set(day, (list = []));
    list.push({
      kind: r.kind as 'trip' | 'stop',
      startMs: num(r.s),
      endMs: num(r.e),
      clippedStart: Boolean(r.clipped_start),
      clippedEnd: Boolean(r.clipped_end),
      distanceM: num(r.distance_km) * 1000,
      maxSpeedKmh: num(r.max_speed_kmh),
      fuelUsedLitres: num(r.fuel_used_litres),
      startLat: num(r.start_lat),
      startLon: num(r.start_lon),
      endLat: num(r.end_lat),
      endLon: num(r.end_lon),
      drivingS: num(r.driving_s),
      idleS: num(r.idle_s),
      engineOnS: num(r.engine_on_s),
    });
  }
  return out;
}
