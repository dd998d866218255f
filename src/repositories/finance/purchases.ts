/**
 * The purchase ledger (fuel_purchases): append-only (the database refuses UPDATE, DELETE
 * and TRUNCATE) and hash-chained in seq order (src/domain/finance/ledger-chain.ts).
 *
 * Every append happens in a transaction that first takes one advisory lock, so appends
 * from any number of API processes take turns: each reads the last entry, chains after it
 * and inserts seq = last + 1. The lock is transaction-scoped (released by COMMIT or
 * ROLLBACK, never left behind by a crash) and works the same on PGlite.
 */
import type { Database, Queryable } from '../../db/client.js';
import {
  chain,
  createChainVerifier,
  type ChainBreak,
  type ChainedEntry,
  type ChainEntry,
  type PurchaseFields,
} from '../../domain/finance/ledger-chain.js';
import { formatLitres, parseLitres } from '../../domain/finance/money.js';
import type { DepartmentScope } from '../scope.js';
import { writeAudit, type Actor } from './audit-log.js';

/** Any constant shared by every Armada process (migrations and rollups use others). */
const LEDGER_LOCK_KEY = 0x4c454447; // "LEDG"

export type EntryFlag = { kind: string; detail: string };

/** What an append is given: the entry's content; id, seq, times of writing and hashes are added here. */
export interface NewLedgerEntry {
  kind: 'purchase' | 'void';
  voidsId?: string | null;
  reason?: string | null;
  vehicleId: string;
  departmentId: string;
  at: Date;
  litresMl: bigint;
  amountIdr: bigint;
  fuelType: string;
  stationCode?: string | null;
  lat?: number | null;
  lon?: number | null;
  receiptNo?: string | null;
  odometerKm?: number | null;
  voucherCode?: string | null;
  source?: string;
  idempotencyKey?: string | null;
  requestSha256?: string | null;
  entryFlags?: ReadonlyArray<EntryFlag>;
}

/** A stored entry, with what the reads add: the station's position, the plate, the void that cancels it. */
export interface LedgerEntry extends ChainedEntry {
  plateNumber: string;
  /** The receipt's position, or failing that the station register's. */
  position: { lat: number; lon: number; source: 'receipt' | 'station' } | null;
  voidedBy: { id: string; seq: number; reason: string | null; createdAt: Date } | null;
}

/** A purchase that stands (not voided), in the shape the reconciliation reads. */
export interface EffectivePurchase extends PurchaseFields {
  id: string;
  seq: number;
  positionSource: 'receipt' | 'station' | null;
  entryFlags: EntryFlag[];
  createdAt: Date;
}

const COLUMNS = `p.id, p.seq::text AS seq, p.kind, p.voids_id, p.reason, p.vehicle_id, p.department_id, p.at,
  p.litres::text AS litres, p.amount_idr::text AS amount_idr, p.fuel_type, p.station_code, p.lat, p.lon, p.receipt_no,
  p.odometer_km, p.voucher_code, p.source, p.idempotency_key, p.request_sha256, p.entry_flags, p.created_at,
  p.created_by_key_id, p.created_by_key_name, p.prev_hash, p.hash`;

const READ = `SELECT ${COLUMNS}, v.plate_number, s.lat AS station_lat, s.lon AS station_lon,
  x.id AS voided_by_id, x.seq::text AS voided_by_seq, x.reason AS voided_by_reason, x.created_at AS voided_by_created_at
  FROM fuel_purchases p
  JOIN vehicles v ON v.id = p.vehicle_id
  LEFT JOIN fuel_stations s ON s.code = p.station_code
  LEFT JOIN fuel_purchases x ON x.voids_id = p.id AND x.kind = 'void'`;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function toChained(r: Record<string, unknown>): ChainedEntry {
  return {
    id: String(r.id),
    seq: Number(r.seq),
    kind: r.kind as 'purchase' | 'void',
    voidsId: str(r.voids_id),
    reason: str(r.reason),
    vehicleId: String(r.vehicle_id),
    departmentId: String(r.department_id),
    at: new Date(r.at as string),
    litresMl: parseLitres(String(r.litres)),
    amountIdr: BigInt(String(r.amount_idr)),
    fuelType: String(r.fuel_type),
    stationCode: str(r.station_code),
    lat: num(r.lat),
    lon: num(r.lon),
    receiptNo: str(r.receipt_no),
    odometerKm: num(r.odometer_km),
    voucherCode: str(r.voucher_code),
    source: String(r.source),
    idempotencyKey: str(r.idempotency_key),
    requestSha256: str(r.request_sha256),
    entryFlags: (typeof r.entry_flags === 'string' ? JSON.parse(r.entry_flags) : r.entry_flags) as EntryFlag[],
    createdAt: new Date(r.created_at as string),
    createdByKeyId: str(r.created_by_key_id),
    createdByKeyName: str(r.created_by_key_name),
    prevHash: String(r.prev_hash),
    hash: String(r.hash),
  };
}

function toEntry(r: Record<string, unknown>): LedgerEntry {
  const e = toChained(r);
  const position =
    e.lat !== null && e.lon !== null
      ? { lat: e.lat, lon: e.lon, source: 'receipt' as const }
      : r.station_lat !== null && r.station_lat !== undefined
        ? { lat: Number(r.station_lat), lon: Number(r.station_lon), source: 'station' as const }
        : null;
  return {
    ...e,
    plateNumber: String(r.plate_number),
    position,
    voidedBy: r.voided_by_id
      ? {
          id: String(r.voided_by_id),
          seq: Number(r.voided_by_seq),
          reason: str(r.voided_by_reason),
          createdAt: new Date(r.voided_by_created_at as string),
        }
      : null,
  };
}

/** What a ledger entry looks like in the audit log (and in answers): plain JSON. */
export function entryAuditView(e: ChainedEntry) {
  return {
    id: e.id,
    seq: e.seq,
    kind: e.kind,
    voidsId: e.voidsId,
    reason: e.reason,
    vehicleId: e.vehicleId,
    at: e.at.toISOString(),
    litres: formatLitres(e.litresMl),
    amountIdr: e.amountIdr.toString(),
    fuelType: e.fuelType,
    stationCode: e.stationCode,
    lat: e.lat,
    lon: e.lon,
    receiptNo: e.receiptNo,
    odometerKm: e.odometerKm,
    voucherCode: e.voucherCode,
    source: e.source,
    entryFlags: e.entryFlags,
    hash: e.hash,
  };
}

/** The ledger seen from inside one append transaction (the lock is held). */
function ledgerTx(tx: Queryable, newId: () => string) {
  const one = async (where: string, params: unknown[]) => {
    const [row] = await tx.query(`${READ} WHERE ${where} LIMIT 1`, params);
    return row ? toEntry(row) : undefined;
  };
  return {
    findById: (id: string) => one('p.id = $1', [id]),
    findByIdempotencyKey: (key: string) => one('p.idempotency_key = $1', [key]),
    /** A standing purchase with exactly this receipt: the same vehicle, number, time, litres and amount. */
    findSameReceipt: (r: { vehicleId: string; receiptNo: string; at: Date; litresMl: bigint; amountIdr: bigint }) =>
      one(
        `p.kind = 'purchase' AND x.id IS NULL AND p.vehicle_id = $1 AND p.receipt_no = $2 AND p.at = $3
         AND p.litres = $4::numeric AND p.amount_idr = $5`,
        [r.vehicleId, r.receiptNo, r.at, formatLitres(r.litresMl), r.amountIdr.toString()],
      ),
    /** Standing purchases (of any vehicle) with this receipt number from the same station (or one that names none). */
    async findStandingByReceiptNo(receiptNo: string, stationCode: string | null): Promise<LedgerEntry[]> {
      const rows = await tx.query(
        `${READ} WHERE p.kind = 'purchase' AND x.id IS NULL AND p.receipt_no = $1
         AND (p.station_code = $2 OR p.station_code IS NULL OR $2::text IS NULL) ORDER BY p.seq`,
        [receiptNo, stationCode],
      );
      return rows.map(toEntry);
    },
    /** Chains the entry after the last one and inserts it, with its audit-log entry, in this transaction. */
    async insert(entry: NewLedgerEntry, actor: Actor, at: Date): Promise<LedgerEntry> {
      const [last] = await tx.query<{ seq: string; hash: string }>(
        'SELECT p.seq::text AS seq, p.hash FROM fuel_purchases p ORDER BY p.seq DESC LIMIT 1',
      );
      const content: Omit<ChainEntry, 'seq'> = {
        id: newId(),
        kind: entry.kind,
        voidsId: entry.voidsId ?? null,
        reason: entry.reason ?? null,
        vehicleId: entry.vehicleId,
        departmentId: entry.departmentId,
        // Millisecond times: what the canonical form hashes is exactly what is stored.
        at: new Date(entry.at.getTime()),
        litresMl: entry.litresMl,
        amountIdr: entry.amountIdr,
        fuelType: entry.fuelType,
        stationCode: entry.stationCode ?? null,
        lat: entry.lat ?? null,
        lon: entry.lon ?? null,
        receiptNo: entry.receiptNo ?? null,
        odometerKm: entry.odometerKm ?? null,
        voucherCode: entry.voucherCode ?? null,
        source: entry.source ?? 'api',
        idempotencyKey: entry.idempotencyKey ?? null,
        requestSha256: entry.requestSha256 ?? null,
        entryFlags: entry.entryFlags ?? [],
        createdAt: new Date(at.getTime()),
        createdByKeyId: actor.keyId,
        createdByKeyName: actor.keyName,
      };
      const e = chain(last ? { seq: Number(last.seq), hash: last.hash } : null, content);
      await tx.query(
        `INSERT INTO fuel_purchases (id, seq, kind, voids_id, reason, vehicle_id, department_id, at, litres, amount_idr, fuel_type,
           station_code, lat, lon, receipt_no, odometer_km, voucher_code, source, idempotency_key, request_sha256, entry_flags,
           created_at, created_by_key_id, created_by_key_name, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::numeric, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21::jsonb,
           $22, $23, $24, $25, $26)`,
        [
          e.id,
          e.seq,
          e.kind,
          e.voidsId,
          e.reason,
          e.vehicleId,
          e.departmentId,
          e.at,
          formatLitres(e.litresMl),
          e.amountIdr.toString(),
          e.fuelType,
          e.stationCode,
          e.lat,
          e.lon,
          e.receiptNo,
          e.odometerKm,
          e.voucherCode,
          e.source,
          e.idempotencyKey,
          e.requestSha256,
          JSON.stringify(e.entryFlags),
          e.createdAt,
          e.createdByKeyId,
          e.createdByKeyName,
          e.prevHash,
          e.hash,
        ],
      );
      await writeAudit(
        tx,
        actor,
        {
          action: e.kind === 'void' ? 'fuel_purchase.void' : e.source === 'import' ? 'fuel_purchase.import_row' : 'fuel_purchase.create',
          entity: 'fuel_purchase',
          entityId: e.kind === 'void' ? e.voidsId : e.id,
          departmentId: e.departmentId,
          before: null,
          after: entryAuditView(e),
        },
        at,
      );
      return (await this.findById(e.id))!;
    },
    /** Writes an audit-log entry in this transaction (e.g. the summary of an import). */
    audit: (actor: Actor, record: Parameters<typeof writeAudit>[2], at: Date) => writeAudit(tx, actor, record, at),
  };
}
export type LedgerTx = ReturnType<typeof ledgerTx>;

export interface PurchaseFilter {
  vehicleId?: string | undefined;
  departmentId?: string | undefined;
  fromMs?: number | undefined;
  toMs?: number | undefined;
  kind?: 'purchase' | 'void' | undefined;
  limit: number;
  offset: number;
}

export function purchaseRepository(database: Database, newId: () => string = () => crypto.randomUUID()) {
  const scoped = (scope: DepartmentScope, filter: Omit<PurchaseFilter, 'limit' | 'offset'>) => {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sqlText: string, value: unknown) => {
      params.push(value);
      where.push(sqlText.replaceAll('?', `$${params.length}`));
    };
    if (scope.departmentId) add('p.department_id = ?', scope.departmentId);
    if (filter.departmentId) add('p.department_id = ?', filter.departmentId);
    if (filter.vehicleId) add('p.vehicle_id = ?', filter.vehicleId);
    if (filter.fromMs !== undefined) add('p.at >= ?', new Date(filter.fromMs));
    if (filter.toMs !== undefined) add('p.at < ?', new Date(filter.toMs));
    if (filter.kind) add('p.kind = ?', filter.kind);
    return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
  };

  return {
    /**
     * Runs `fn` in one transaction holding the ledger's lock: what it reads cannot change
     * before it commits, and what it appends is chained in order. Throwing rolls it all back.
     */
    async inLedger<T>(fn: (ledger: LedgerTx) => Promise<T>): Promise<T> {
      return database.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [LEDGER_LOCK_KEY]);
        return fn(ledgerTx(tx, newId));
      });
    },
    /** Appends one entry (under the lock, chained), with its audit-log entry. */
    async append(entry: NewLedgerEntry, actor: Actor, at: Date = new Date()): Promise<LedgerEntry> {
      return this.inLedger((ledger) => ledger.insert(entry, actor, at));
    },
    /** The entry, if it exists and the scope may see it. */
    async findById(scope: DepartmentScope, id: string): Promise<LedgerEntry | undefined> {
      const [row] = await database.query(
        `${READ} WHERE p.id = $1 ${scope.departmentId ? 'AND p.department_id = $2' : ''}`,
        scope.departmentId ? [id, scope.departmentId] : [id],
      );
      return row ? toEntry(row) : undefined;
    },
    /** Entries newest first (by purchase time, then seq), and the sums of the purchases that stand. */
    async list(
      scope: DepartmentScope,
      filter: PurchaseFilter,
    ): Promise<{ entries: LedgerEntry[]; total: number; standing: { count: number; litresMl: bigint; amountIdr: bigint } }> {
      const { where, params } = scoped(scope, filter);
      const rows = await database.query(
        `${READ} ${where} ORDER BY p.at DESC, p.seq DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, filter.limit, filter.offset],
      );
      const [sums] = await database.query<{ n: number; standing: number; litres: string; amount: string }>(
        `SELECT count(*)::int AS n,
           (count(*) FILTER (WHERE p.kind = 'purchase' AND x.id IS NULL))::int AS standing,
           coalesce(sum(p.litres) FILTER (WHERE p.kind = 'purchase' AND x.id IS NULL), 0)::numeric(14,3)::text AS litres,
           coalesce(sum(p.amount_idr) FILTER (WHERE p.kind = 'purchase' AND x.id IS NULL), 0)::text AS amount
         FROM fuel_purchases p LEFT JOIN fuel_purchases x ON x.voids_id = p.id AND x.kind = 'void' ${where}`,
        params,
      );
      return {
        entries: rows.map(toEntry),
        total: sums?.n ?? 0,
        standing: { count: sums?.standing ?? 0, litresMl: parseLitres(sums?.litres ?? '0'), amountIdr: BigInt(sums?.amount ?? '0') },
      };
    },
    /**
     * Purchases that stand (not voided) with `at` in [fromMs, toMs), oldest first; lat/lon
     * from the receipt or, failing that, the station register.
     */
    async effectivePurchases(filter: {
      vehicleIds?: readonly string[];
      departmentId?: string | null;
      fromMs: number;
      toMs: number;
    }): Promise<EffectivePurchase[]> {
      const params: unknown[] = [new Date(filter.fromMs), new Date(filter.toMs)];
      let extra = '';
      if (filter.vehicleIds) {
        params.push([...filter.vehicleIds]);
        extra += ` AND p.vehicle_id = ANY($${params.length}::uuid[])`;
      }
      if (filter.departmentId) {
        params.push(filter.departmentId);
        extra += ` AND p.department_id = $${params.length}`;
      }
      const rows = await database.query(
        `${READ} WHERE p.kind = 'purchase' AND x.id IS NULL AND p.at >= $1 AND p.at < $2${extra} ORDER BY p.at, p.seq`,
        params,
      );
      return rows.map((r) => {
        const e = toEntry(r);
        return {
          id: e.id,
          seq: e.seq,
          vehicleId: e.vehicleId,
          departmentId: e.departmentId,
          at: e.at,
          litresMl: e.litresMl,
          amountIdr: e.amountIdr,
          fuelType: e.fuelType,
          stationCode: e.stationCode,
          lat: e.position?.lat ?? null,
          lon: e.position?.lon ?? null,
          positionSource: e.position?.source ?? null,
          receiptNo: e.receiptNo,
          odometerKm: e.odometerKm,
          voucherCode: e.voucherCode,
          entryFlags: [...e.entryFlags],
          createdAt: e.createdAt,
        };
      });
    },
    /**
     * Walks the whole chain in seq order, a page at a time, and names the first broken
     * entry. Appends may continue meanwhile: they only add after the end.
     */
    async verify(
      pageSize = 2000,
    ): Promise<{ ok: boolean; checked: number; lastSeq: number; lastHash: string; firstBroken: ChainBreak | null }> {
      const verifier = createChainVerifier();
      let afterSeq = 0;
      for (;;) {
        const rows = await database.query(`SELECT ${COLUMNS} FROM fuel_purchases p WHERE p.seq > $1 ORDER BY p.seq LIMIT $2`, [
          afterSeq,
          pageSize,
        ]);
        if (rows.length === 0) break;
        const page = rows.map(toChained);
        if (verifier.check(page)) break;
        afterSeq = page[page.length - 1]!.seq;
        if (rows.length < pageSize) break;
      }
      return {
        ok: verifier.broken === null,
        checked: verifier.checked,
        lastSeq: verifier.checked,
        lastHash: verifier.lastHash,
        firstBroken: verifier.broken,
      };
    },
  };
}
export type PurchaseRepository = ReturnType<typeof purchaseRepository>;
