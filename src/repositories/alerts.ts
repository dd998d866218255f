/** Stored alerts: written by the alert engine, listed and acknowledged through the API. */
import type { Queryable } from '../db/client.js';
import type { AlertCandidate } from '../domain/alerts.js';
import type { DepartmentScope } from './scope.js';

export interface AlertRow {
  id: number;
  kind: string;
  vehicleId: string;
  plateNumber: string;
  departmentId: string;
  at: Date;
  lat: number | null;
  lon: number | null;
  message: string;
  details: Record<string, unknown>;
  acknowledgedAt: Date | null;
  acknowledgedByKeyId: string | null;
  acknowledgedNote: string | null;
}

const SELECT = `SELECT a.id::float8 AS id, a.kind, a.vehicle_id AS "vehicleId", v.plate_number AS "plateNumber",
  a.department_id AS "departmentId", a.at, a.lat, a.lon, a.message, a.details, a.acknowledged_at AS "acknowledgedAt",
  a.acknowledged_by_key_id AS "acknowledgedByKeyId", a.acknowledged_note AS "acknowledgedNote"
  FROM alerts a JOIN vehicles v ON v.id = a.vehicle_id`;

const toRow = (r: Record<string, unknown>): AlertRow => ({
  ...(r as unknown as AlertRow),
  at: new Date(r.at as string),
  acknowledgedAt: r.acknowledgedAt ? new Date(r.acknowledgedAt as string) : null,
});

/** A vehicle gone silent: when it was last heard from (null: never), and its last fix. */
export interface SilentVehicle {
  vehicleId: string;
  departmentId: string;
  plateNumber: string;
  lastSeenAt: Date | null;
  registeredAt: Date;
  fixAt: Date | null;
  lat: number | null;
  lon: number | null;
}

export function alertRepository(db: Queryable) {
  return {
    /** Stores the alerts and answers them with their ids, in the same order. */
    async insertMany(candidates: readonly AlertCandidate[]): Promise<AlertRow[]> {
      if (candidates.length === 0) return [];
      const rows = await db.query(
        `WITH ins AS (
           INSERT INTO alerts (kind, vehicle_id, department_id, at, lat, lon, message, details)
           SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::float8[], $6::float8[], $7::text[], $8::jsonb[])
           RETURNING *
         )
         ${SELECT.replace('FROM alerts a', 'FROM ins a')} ORDER BY a.id`,
        [
          candidates.map((c) => c.kind),
          candidates.map((c) => c.vehicleId),
          candidates.map((c) => c.departmentId),
          candidates.map((c) => new Date(c.atMs).toISOString()),
          candidates.map((c) => c.lat),
          candidates.map((c) => c.lon),
          candidates.map((c) => c.message),
          candidates.map((c) => JSON.stringify(c.details)),
        ],
      );
      return rows.map(toRow);
    },
    async list(
      scope: DepartmentScope,
      filter: {
        fromMs: number;
        toMs: number;
        departmentId?: string;
        vehicleId?: string;
        kind?: string;
        unacknowledged?: boolean;
        limit: number;
      },
    ): Promise<AlertRow[]> {
      const rows = await db.query(
        `${SELECT}
         WHERE a.at >= $1 AND a.at < $2
           AND ($3::uuid IS NULL OR a.department_id = $3)
           AND ($4::uuid IS NULL OR a.department_id = $4)
           AND ($5::uuid IS NULL OR a.vehicle_id = $5)
           AND ($6::text IS NULL OR a.kind = $6)
           AND (NOT $7 OR a.acknowledged_at IS NULL)
         ORDER BY a.at DESC, a.id DESC
         LIMIT $8`,
        [
          new Date(filter.fromMs).toISOString(),
          new Date(filter.toMs).toISOString(),
          scope.departmentId,
          filter.departmentId ?? null,
          filter.vehicleId ?? null,
          filter.kind ?? null,
          filter.unacknowledged ?? false,
          filter.limit,
        ],
      );
      return rows.map(toRow);
    },
    async findById(scope: DepartmentScope, id: number): Promise<AlertRow | undefined> {
      const rows = await db.query(`${SELECT} WHERE a.id = $1 AND ($2::uuid IS NULL OR a.department_id = $2)`, [id, scope.departmentId]);
      return rows[0] ? toRow(rows[0]) : undefined;
    },
    /** Acknowledges once; a second acknowledgement leaves the first in place. */
    async acknowledge(id: number, keyId: string, note: string | null, at: Date): Promise<void> {
      await db.query(
        `UPDATE alerts SET acknowledged_at = $2, acknowledged_by_key_id = $3, acknowledged_note = $4 WHERE id = $1 AND acknowledged_at IS NULL`,
        [id, at.toISOString(), keyId, note],
      );
    },
    /**
     * Drains the rollup job found in the last `withinDays` that no fuel_drain alert covers
     * yet. A recompute may place a drain a little differently, so any drain alert of the
     * vehicle within 15 minutes counts as covering it.
     */
    async uncoveredDrains(
      nowMs: number,
      withinDays: number,
    ): Promise<
      Array<{
        vehicleId: string;
        departmentId: string;
        plateNumber: string;
        at: Date;
        lat: number;
        lon: number;
        litres: number;
        moving: boolean;
      }>
    > {
      const rows = await db.query(
        `SELECT e.vehicle_id AS "vehicleId", v.department_id AS "departmentId", v.plate_number AS "plateNumber", e.at, e.lat, e.lon, e.litres, e.moving
           FROM vehicle_fuel_events e JOIN vehicles v ON v.id = e.vehicle_id
          WHERE e.kind = 'drain' AND e.at >= $1::timestamptz - make_interval(days => $2)
            AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.vehicle_id = e.vehicle_id AND a.kind = 'fuel_drain'
                              AND a.at BETWEEN e.at - interval '15 minutes' AND e.at + interval '15 minutes')
          ORDER BY e.at`,
        [new Date(nowMs).toISOString(), withinDays],
      );
      return rows.map((r) => ({
        ...(r as never as {
          vehicleId: string;
          departmentId: string;
          plateNumber: string;
          lat: number;
          lon: number;
          litres: number;
          moving: boolean;
        }),
        at: new Date(r.at as string),
      }));
    },
    /**
     * Vehicles from whose active devices no usable reading (one stored, or a duplicate of
     * one) has arrived for `silentForS`, by the server's clock (a tracker whose own clock is
     * wrong is not silent while it reports; one whose every message goes to quarantine is),
     * or that have delivered none since their device was registered that long ago, and
     * that have no device_silent alert since: each silence is reported once. Their last
     * known position, if any, comes along.
     */
    async newlySilent(nowMs: number, silentForS: number): Promise<SilentVehicle[]> {
      const rows = await db.query(
        `WITH heard AS (
           SELECT vehicle_id, max(last_seen_at) AS last_seen_at, min(created_at) AS registered_at
             FROM devices WHERE active GROUP BY vehicle_id
         )
         SELECT h.vehicle_id AS "vehicleId", v.department_id AS "departmentId", v.plate_number AS "plateNumber",
                h.last_seen_at AS "lastSeenAt", h.registered_at AS "registeredAt", l.fix_at AS "fixAt", l.lat, l.lon
           FROM heard h
           JOIN vehicles v ON v.id = h.vehicle_id
           LEFT JOIN vehicle_latest l ON l.vehicle_id = h.vehicle_id
          WHERE coalesce(h.last_seen_at, h.registered_at) < $1::timestamptz - make_interval(secs => $2)
            AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.vehicle_id = h.vehicle_id AND a.kind = 'device_silent'
                              AND a.at >= coalesce(h.last_seen_at, h.registered_at))`,
        [new Date(nowMs).toISOString(), silentForS],
      );
      const at = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
      return rows.map((r) => ({
        vehicleId: r.vehicleId as string,
        departmentId: r.departmentId as string,
        plateNumber: r.plateNumber as string,
        lastSeenAt: at(r.lastSeenAt),
        registeredAt: at(r.registeredAt)!,
        fixAt: at(r.fixAt),
        lat: r.lat === null ? null : Number(r.lat),
        lon: r.lon === null ? null : Number(r.lon),
      }));
    },
  };
}
export type AlertRepository = ReturnType<typeof alertRepository>;
