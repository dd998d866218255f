/**
 * Readings for analysis: a vehicle's track (or several vehicles' tracks) over a window of
 * fix times, as the trip and fuel analysis takes them, and the span its readings cover.
 */
import type { Database } from '../../db/client.js';
import type { AnalysisReading } from '../../domain/trips.js';
import { iso, ms, num, numOrNull } from './values.js';

const READING_COLUMNS = `(extract(epoch from fix_at) * 1000)::float8 AS t, lat, lon, speed_kmh, ignition, odometer_km, hdop, satellites::float8 AS satellites,
  fuel_litres, fuel_percent, fuel_used_litres`;

function toReading(r: Record<string, unknown>): AnalysisReading {
  return {
    fixAtMs: num(r.t),
    lat: num(r.lat),
    lon: num(r.lon),
    speedKmh: numOrNull(r.speed_kmh),
    ignition: (r.ignition as boolean | null) ?? null,
    odometerKm: numOrNull(r.odometer_km),
    hdop: numOrNull(r.hdop),
    satellites: numOrNull(r.satellites),
    fuelLitres: numOrNull(r.fuel_litres),
    fuelPercent: numOrNull(r.fuel_percent),
    fuelUsedLitres: numOrNull(r.fuel_used_litres),
  };
}

export function readingQueries(database: Database) {
  return {
    /** The vehicle's readings with fix time in [fromMs, toMs), in fix-time order. */
    async readings(vehicleId: string, fromMs: number, toMs: number): Promise<AnalysisReading[]> {
      const rows = await database.query(
        `SELECT ${READING_COLUMNS} FROM telemetry WHERE vehicle_id = $1 AND fix_at >= $2 AND fix_at < $3 ORDER BY fix_at`,
        [vehicleId, iso(fromMs), iso(toMs)],
      );
      return rows.map(toReading);
    },

    /** Readings of several vehicles at once, per vehicle in fix-time order. */
    async readingsOfVehicles(vehicleIds: readonly string[], fromMs: number, toMs: number): Promise<Map<string, AnalysisReading[]>> {
      const out = new Map<string, AnalysisReading[]>();
      if (vehicleIds.length === 0) return out;
      const rows = await database.query(
        `SELECT vehicle_id, ${READING_COLUMNS} FROM telemetry WHERE vehicle_id = ANY($1::uuid[]) AND fix_at >= $2 AND fix_at < $3
          ORDER BY vehicle_id, fix_at`,
        [vehicleIds, iso(fromMs), iso(toMs)],
      );
      for (const r of rows) {
        const id = String(r.vehicle_id);
        let list = out.get(id);
        if (!list) out.set(id, (list = []));
        list.push(toReading(r));
      }
      return out;
    },

    /** The vehicle's first and last fix times, or null without readings. */
    async fixRange(vehicleId: string): Promise<{ firstMs: number; lastMs: number } | null> {
      const [first] = await database.query(`SELECT fix_at FROM telemetry WHERE vehicle_id = $1 ORDER BY fix_at LIMIT 1`, [vehicleId]);
      if (!first) return null;
      const [last] = await database.query(`SELECT fix_at FROM telemetry WHERE vehicle_id = $1 ORDER BY fix_at DESC LIMIT 1`, [vehicleId]);
      return { firstMs: ms(first.fix_at), lastMs: ms(last!.fix_at) };
    },
  };
}
