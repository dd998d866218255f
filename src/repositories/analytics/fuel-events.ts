/** Refuels and drains found in the tank level, stored by the report day they began. */
import type { Queryable } from '../../db/client.js';
import type { FuelEvent } from '../../domain/fuel/index.js';
import type { LocalDay } from '../../domain/report-time.js';
import { iso, num } from './values.js';

export async function deleteFuelEvents(tx: Queryable, vehicleId: string, day: LocalDay): Promise<void> {
  await tx.query('DELETE FROM vehicle_fuel_events WHERE vehicle_id = $1 AND day = $2', [vehicleId, day]);
}

/** Stores the day's events in time order. */
export async function insertFuelEvents(tx: Queryable, vehicleId: string, day: LocalDay, events: readonly FuelEvent[]): Promise<void> {
  if (events.length > 0) {
    await tx.query(
      `INSERT INTO vehicle_fuel_events (vehicle_id, day, seq, kind, at, end_at, lat, lon, litres, level_before_litres, level_after_litres, moving)
       SELECT $1::uuid, $2::date, * FROM unnest($3::smallint[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::float8[], $8::float8[],
         $9::float8[], $10::real[], $11::real[], $12::boolean[])`,
      [
        vehicleId,
        day,
        events.map((_, i) => i),
        events.map((e) => e.kind),
        events.map((e) => iso(e.atMs)),
        events.map((e) => iso(e.endMs)),
        events.map((e) => e.lat),
        events.map((e) => e.lon),
        events.map((e) => e.litres),
        events.map((e) => e.levelBeforeLitres),
        events.map((e) => e.levelAfterLitres),
        events.map((e) => e.moving),
      ],
    );
  }
}

/** The events of [firstDay, lastDay], by day, in order. */
export async function readFuelEvents(
  tx: Queryable,
  vehicleId: string,
  firstDay: LocalDay,
  lastDay: LocalDay,
): Promise<Map<LocalDay, FuelEvent[]>> {
  const rows = await tx.query(
    `SELECT day::text AS day, kind, (extract(epoch from at) * 1000)::float8 AS a, (extract(epoch from end_at) * 1000)::float8 AS e,
            lat, lon, litres, level_before_litres, level_after_litres, moving
       FROM vehicle_fuel_events WHERE vehicle_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day, seq`,
    [vehicleId, firstDay, lastDay],
  );
  const out = new Map<LocalDay, FuelEvent[]>();
  for (const r of rows) {
    const day = String(r.day);
    let list = out.get(day);
    if (!list) out.set(day, (list = []));
    list.push({
      kind: r.kind as 'refuel' | 'drain',
      atMs: num(r.a),
      endMs: num(r.e),
      lat: num(r.lat),
      lon: num(r.lon),
      litres: num(r.litres),
      levelBeforeLitres: num(r.level_before_litres),
      levelAfterLitres: num(r.level_after_litres),
      moving: Boolean(r.moving),
    });
  }
  return out;
}
