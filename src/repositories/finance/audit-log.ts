/**
 * The audit log: who changed what in finance and access, written in the same transaction
 * as the change (a change that rolls back leaves no entry). Append-only: a trigger
 * refuses UPDATE, DELETE and TRUNCATE (migration 0008).
 */
import type { Database, Queryable } from '../../db/client.js';
import type { DepartmentScope } from '../scope.js';

/** Who made a change: the API key (id and name), or null for the service itself (seed, migration). */
export interface Actor {
  keyId: string | null;
  keyName: string | null;
}

export const SYSTEM_ACTOR: Actor = Object.freeze({ keyId: null, keyName: null });

export interface AuditRecord {
  action: string;
  entity: string;
  entityId: string | null;
  departmentId: string | null;
  before: unknown;
  after: unknown;
}

export interface AuditRow extends AuditRecord {
  id: number;
  at: Date;
  keyId: string | null;
  keyName: string | null;
}

/** Entities every department may read the history of: the city-wide registers. */
export const CITY_WIDE_ENTITIES = ['fuel_price', 'fuel_station'] as const;

/** JSON text for a jsonb column: bigints become numbers (rupiah fit), dates ISO text. */
export function auditJson(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
}

/** Writes one entry with the caller's transaction (or connection). */
export async function writeAudit(q: Queryable, actor: Actor, record: AuditRecord, at: Date): Promise<void> {
  await q.query(
    `INSERT INTO audit_log (at, key_id, key_name, action, entity, entity_id, department_id, before, after)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb)`,
    [
      at,
      actor.keyId,
      actor.keyName,
      record.action,
      record.entity,
      record.entityId,
      record.departmentId,
      auditJson(record.before),
      auditJson(record.after),
    ],
  );
}

export interface AuditFilter {
  fromMs?: number | undefined;
  toMs?: number | undefined;
  entity?: string | undefined;
  entityId?: string | undefined;
  action?: string | undefined;
  keyId?: string | undefined;
  departmentId?: string | undefined;
  limit: number;
  offset: number;
}

export function auditLogRepository(database: Database) {
  return {
    record: (actor: Actor, record: AuditRecord, at: Date) => writeAudit(database, actor, record, at),
    /**
     * Newest first. A department's key sees its department's entries and the history of
     * the city-wide registers (prices, stations), nothing else.
     */
    async list(scope: DepartmentScope, filter: AuditFilter): Promise<{ rows: AuditRow[]; total: number }> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sqlText: string, value: unknown) => {
        params.push(value);
        where.push(sqlText.replace('?', `$${params.length}`));
      };
      if (scope.departmentId) {
        params.push(scope.departmentId, [...CITY_WIDE_ENTITIES]);
        where.push(`(department_id = $${params.length - 1} OR (department_id IS NULL AND entity = ANY($${params.length}::text[])))`);
      }
      if (filter.fromMs !== undefined) add('at >= ?', new Date(filter.fromMs));
      if (filter.toMs !== undefined) add('at < ?', new Date(filter.toMs));
      if (filter.entity) add('entity = ?', filter.entity);
      if (filter.entityId) add('entity_id = ?', filter.entityId);
      if (filter.action) add('action = ?', filter.action);
      if (filter.keyId) add('key_id = ?', filter.keyId);
      if (filter.departmentId) add('department_id = ?', filter.departmentId);
      const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const [count] = await database.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log ${whereSql}`, params);
      const rows = await database.query(
        `SELECT id::float8 AS id, at, key_id AS "keyId", key_name AS "keyName", action, entity, entity_id AS "entityId",
           department_id AS "departmentId", before, after
         FROM audit_log ${whereSql} ORDER BY at DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, filter.limit, filter.offset],
      );
      return { rows: rows.map((r) => ({ ...(r as unknown as AuditRow), at: new Date(r.at as string) })), total: count?.n ?? 0 };
    },
  };
}
export type AuditLogRepository = ReturnType<typeof auditLogRepository>;
