/** Reads of stored positions: each vehicle's latest state and a vehicle's track. */
import type { Queryable } from '../db/client.js';
import type { DepartmentScope } from './scope.js';

export interface LatestPositionRow {
  vehicleId: string;
  plateNumber: string;
  departmentId: string;
  fixAt: Date;
  lat: number;
  lon: number;
  speedKmh: number | null;
  headingDeg: number | null;
  fuelLitres: number | null;
  fuelPercent: number | null;
  tankCapacityLitres: number;
  ignition: boolean | null;
}

export interface TrackPointRow {
  fixAt: Date;
  lat: number;
  lon: number;
  speedKmh: number | null;
  headingDeg: number | null;
  fuelLitres: number | null;
  ignition: boolean | null;
  altitudeM: number | null;
  /** From an OwnTracks phone (`acc`, `batt`), kept among the reading's attributes. */
  accuracyM: number | null;
  phoneBatteryPercent: number | null;
}

/** A numeric attribute, or null (an attribute of that name that is not a number reads as null, not as an error). */
const numericAttribute = (name: string) =>
  `CASE WHEN jsonb_typeof(attributes -> '${name}') = 'number' THEN (attributes ->> '${name}')::float8 END AS "${name}"`;

const toDate = (v: unknown) => (v instanceof Date ? v : new Date(String(v)));

export function positionRepository(db: Queryable) {
  return {
    /** Every vehicle's latest committed fix (where the ingest's jump filter starts). */
    async newestFixes(): Promise<Array<{ vehicleId: string; fixAtMs: number; lat: number; lon: number }>> {
      const rows = await db.query<{ vehicle_id: string; fix_ms: number; lat: number; lon: number }>(
        'SELECT vehicle_id, (extract(epoch FROM fix_at) * 1000)::float8 AS fix_ms, lat, lon FROM vehicle_latest',
      );
      return rows.map((r) => ({ vehicleId: r.vehicle_id, fixAtMs: Number(r.fix_ms), lat: Number(r.lat), lon: Number(r.lon) }));
    },
    /**
     * Each vehicle's newest position: the newer of `vehicle_latest`, which the ingest writes
     * about once a second (src/ingest/state-behind.ts), and the vehicle's newest stored
     * reading after it. So a position already announced live, committed but not yet in
     * `vehicle_latest`, is never missing here (the live feed's snapshot reads this). A
     * vehicle's first reading ever is looked for a week back.
     */
    async latest(scope: DepartmentScope, filter: { departmentId?: string; vehicleIds?: string[] } = {}): Promise<LatestPositionRow[]> {
      const rows = await db.query(
        `SELECT v.id AS "vehicleId", v.plate_number AS "plateNumber", v.department_id AS "departmentId",
                l.fix_at AS "fixAt", l.lat, l.lon, l.speed_kmh AS "speedKmh", l.heading_deg AS "headingDeg",
                l.fuel_litres AS "fuelLitres", l.fuel_percent AS "fuelPercent",
                v.tank_capacity_litres AS "tankCapacityLitres", l.ignition
           FROM vehicles v
           CROSS JOIN LATERAL (
             SELECT * FROM (
               SELECT fix_at, lat, lon, speed_kmh, heading_deg, fuel_litres, fuel_percent, ignition
                 FROM vehicle_latest WHERE vehicle_id = v.id
               UNION ALL
               (SELECT t.fix_at, t.lat, t.lon, t.speed_kmh, t.heading_deg, t.fuel_litres, t.fuel_percent, t.ignition
                  FROM telemetry t
                 WHERE t.vehicle_id = v.id
                   AND t.fix_at > coalesce((SELECT fix_at FROM vehicle_latest WHERE vehicle_id = v.id), now() - interval '7 days')
                 ORDER BY t.fix_at DESC LIMIT 1)
             ) c ORDER BY fix_at DESC LIMIT 1
           ) l
          WHERE ($1::uuid IS NULL OR v.department_id = $1)
            AND ($2::uuid IS NULL OR v.department_id = $2)
            AND ($3::uuid[] IS NULL OR v.id = ANY($3))
          ORDER BY v.plate_number`,
        [scope.departmentId, filter.departmentId ?? null, filter.vehicleIds ?? null],
      );
      return rows.map((r) => ({ ...(r as unknown as LatestPositionRow), fixAt: toDate(r.fixAt) }));
    },

    /** At most `limit` points in fix-time order, and whether more were left out. */
    async track(vehicleId: string, fromMs: number, toMs: number, limit: number): Promise<{ points: TrackPointRow[]; truncated: boolean }> {
      const rows = await db.query(
        `SELECT fix_at AS "fixAt", lat, lon, speed_kmh AS "speedKmh", heading_deg AS "headingDeg",
                fuel_litres AS "fuelLitres", ignition, altitude_m AS "altitudeM",
                ${numericAttribute('accuracyM')}, ${numericAttribute('phoneBatteryPercent')}
           FROM telemetry
          WHERE vehicle_id = $1 AND fix_at >= $2 AND fix_at < $3
          ORDER BY fix_at
          LIMIT $4`,
        [vehicleId, new Date(fromMs).toISOString(), new Date(toMs).toISOString(), limit + 1],
      );
      const truncated = rows.length > limit;
      const points = (truncated ? rows.slice(0, limit) : rows).map((r) => ({ ...(r as unknown as TrackPointRow), fixAt: toDate(r.fixAt) }));
      return { points, truncated };
    },
  };
}
export type PositionRepository = ReturnType<typeof positionRepository>;
