/**
 * What the reconciliation weighs a receipt against, read from the analytics' tables: the
 * refuels the tank sensors showed (vehicle_fuel_events), each day's level and rated use
 * (vehicle_day_rollups), the readings around a purchase (telemetry) and the price table.
 * Reads only; raw SQL, as these run over a whole fleet's month.
 */
import type { Queryable } from '../../db/client.js';
import type { LocalDay } from '../../domain/report-time.js';

export interface StoredRefuel {
  vehicleId: string;
  atMs: number;
  endMs: number;
  litres: number;
  lat: number;
  lon: number;
  levelBeforeLitres: number;
  levelAfterLitres: number;
}

export interface DayEvidence {
  vehicleId: string;
  day: LocalDay;
  /** The day had a tank level (a sensor, or a CAN level with the counter). */
  hasLevel: boolean;
  ratedLitres: number;
  startLevelLitres: number | null;
  endLevelLitres: number | null;
  usedLitres: number;
  fuelSource: string;
}

export interface NearReading {
  fixAtMs: number;
  lat: number;
  lon: number;
  odometerKm: number | null;
}

export interface PriceRow {
  fuelType: string;
  priceIdrPerLitre: bigint;
  validFrom: LocalDay;
}

const iso = (ms: number) => new Date(ms).toISOString();
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

export function evidenceRepository(db: Queryable) {
  return {
    /** Refuels of these vehicles that began in [fromMs, toMs), by vehicle and time. */
    async refuels(vehicleIds: readonly string[], fromMs: number, toMs: number): Promise<StoredRefuel[]> {
      if (vehicleIds.length === 0) return [];
      const rows = await db.query(
        `SELECT vehicle_id, (extract(epoch from at) * 1000)::float8 AS a, (extract(epoch from end_at) * 1000)::float8 AS e, litres,
          lat, lon,
                level_before_litres, level_after_litres
           FROM vehicle_fuel_events
          WHERE kind = 'refuel' AND vehicle_id = ANY($1::uuid[]) AND at >= $2 AND at < $3
          ORDER BY vehicle_id, at`,
        [vehicleIds, iso(fromMs), iso(toMs)],
      );
      return rows.map((r) => ({
        vehicleId: String(r.vehicle_id),
        atMs: num(r.a),
        endMs: num(r.e),
        litres: num(r.litres),
        lat: num(r.lat),
        lon: num(r.lon),
        levelBeforeLitres: num(r.level_before_litres),
        levelAfterLitres: num(r.level_after_litres),
      }));
    },

    /** The stored days of these vehicles in [firstDay, lastDay]. */
    async days(vehicleIds: readonly string[], firstDay: LocalDay, lastDay: LocalDay): Promise<DayEvidence[]> {
      if (vehicleIds.length === 0) return [];
      const rows = await db.query(
        `SELECT vehicle_id, day::text AS day, start_level_litres, end_level_litres, rated_litres, fuel_used_litres, fuel_source
           FROM vehicle_day_rollups WHERE vehicle_id = ANY($1::uuid[]) AND day BETWEEN $2 AND $3 ORDER BY vehicle_id, day`,
        [vehicleIds, firstDay, lastDay],
      );
      return rows.map((r) => ({
        vehicleId: String(r.vehicle_id),
        day: String(r.day),
        hasLevel: r.start_level_litres !== null,
        ratedLitres: num(r.rated_litres),
        startLevelLitres: numOrNull(r.start_level_litres),
        endLevelLitres: numOrNull(r.end_level_litres),
        usedLitres: num(r.fuel_used_litres),
        fuelSource: String(r.fuel_source),
      }));
    },

    /**
     * For each purchase, at most two of its vehicle's readings within `windowS` of its time:
     * the one nearest the purchase's position (or in time, without a position) and the
     * nearest in time that carries an odometer. None: nothing can vouch for it.
     */
    async readingsNear(
      purchases: ReadonlyArray<{ id: string; vehicleId: string; atMs: number; lat: number | null; lon: number | null }>,
      windowS: number,
    ): Promise<Map<string, NearReading[]>> {
      const out = new Map<string, NearReading[]>();
      if (purchases.length === 0) return out;
      const rows = await db.query(
        `SELECT p.id, x.fix_ms, x.lat, x.lon, x.odometer_km
           FROM unnest($1::text[], $2::uuid[], $3::timestamptz[], $4::float8[], $5::float8[]) AS p(id, vehicle_id, at, lat, lon)
           CROSS JOIN LATERAL (
             (SELECT (extract(epoch from t.fix_at) * 1000)::float8 AS fix_ms, t.lat, t.lon, t.odometer_km FROM telemetry t
               WHERE t.vehicle_id = p.vehicle_id AND t.fix_at BETWEEN p.at - make_interval(secs => $6) AND p.at + make_interval(secs => $6)
               ORDER BY CASE WHEN p.lat IS NULL THEN abs(extract(epoch from t.fix_at - p.at))
                        ELSE power(t.lat - p.lat, 2) + power(cos(radians(p.lat)) * (t.lon - p.lon), 2) END
               LIMIT 1)
             UNION ALL
             (SELECT (extract(epoch from t.fix_at) * 1000)::float8, t.lat, t.lon, t.odometer_km FROM telemetry t
               WHERE t.vehicle_id = p.vehicle_id AND t.odometer_km IS NOT NULL
                 AND t.fix_at BETWEEN p.at - make_interval(secs => $6) AND p.at + make_interval(secs => $6)
               ORDER BY abs(extract(epoch from t.fix_at - p.at)) LIMIT 1)
           ) AS x`,
        [
          purchases.map((p) => p.id),
          purchases.map((p) => p.vehicleId),
          purchases.map((p) => iso(p.atMs)),
          purchases.map((p) => p.lat),
          purchases.map((p) => p.lon),
          windowS,
        ],
      );
      for (const r of rows) {
        const id = String(r.id);
        let list = out.get(id);
        if (!list) out.set(id, (list = []));
        list.push({ fixAtMs: num(r.fix_ms), lat: num(r.lat), lon: num(r.lon), odometerKm: numOrNull(r.odometer_km) });
      }
      return out;
    },

    /** The vehicle's newest fix with its tank level, if it has one (for a voucher's room in the tank). */
    async latestLevel(vehicleId: string): Promise<{ fixAtMs: number; fuelLitres: number | null; fuelPercent: number | null } | null> {
      const [row] = await db.query(
        `SELECT (extract(epoch from fix_at) * 1000)::float8 AS t, fuel_litres, fuel_percent FROM vehicle_latest WHERE vehicle_id = $1`,
        [vehicleId],
      );
      return row ? { fixAtMs: num(row.t), fuelLitres: numOrNull(row.fuel_litres), fuelPercent: numOrNull(row.fuel_percent) } : null;
    },

    /** The whole price history (a few rows a year per fuel), oldest first. */
    async prices(): Promise<PriceRow[]> {
      const rows = await db.query(
        `SELECT fuel_type, price_idr_per_litre::text AS price, valid_from::text AS valid_from FROM fuel_prices ORDER BY fuel_type,
          valid_from`,
      );
      return rows.map((r) => ({
        fuelType: String(r.fuel_type),
        priceIdrPerLitre: BigInt(String(r.price)),
        validFrom: String(r.valid_from),
      }));
    },
  };
}
export type EvidenceRepository = ReturnType<typeof evidenceRepository>;
