/**
 * The purchase ledger's hash chain (pure). Each entry's hash is the SHA-256 of the
 * previous entry's hash and the entry's content in a canonical form, so changing,
 * removing or reordering any entry breaks every hash after it.
 *
 * The canonical form depends only on what a dump and restore keep exactly: keys in a
 * fixed (sorted) order, litres as decimal text with three places ('12.500', what
 * numeric(12,3) stores), rupiah as integer text, times as ISO 8601 UTC with milliseconds
 * (entries are written with millisecond times), doubles as JavaScript's shortest
 * round-trip text (pg_dump writes doubles exactly), absent values as null.
 */
import { createHash } from 'node:crypto';
import { formatLitres } from './money.js';

/** The prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** What a receipt says about a purchase: the fields the ledger, its checks and the reconciliation share. */
export interface PurchaseFields {
  vehicleId: string;
  departmentId: string;
  at: Date;
  litresMl: bigint;
  amountIdr: bigint;
  fuelType: string;
  stationCode: string | null;
  lat: number | null;
  lon: number | null;
  receiptNo: string | null;
  odometerKm: number | null;
  voucherCode: string | null;
}

export interface ChainEntry extends PurchaseFields {
  id: string;
  seq: number;
  kind: 'purchase' | 'void';
  voidsId: string | null;
  reason: string | null;
  source: string;
  idempotencyKey: string | null;
  requestSha256: string | null;
  entryFlags: ReadonlyArray<{ kind: string; detail: string }>;
  createdAt: Date;
  createdByKeyId: string | null;
  createdByKeyName: string | null;
}

export interface ChainedEntry extends ChainEntry {
  prevHash: string;
  hash: string;
}

const isoMs = (d: Date): string => {
  if (Number.isNaN(d.getTime())) throw new RangeError('invalid time in a ledger entry');
  return d.toISOString();
};

const num = (x: number | null): string | null => {
  if (x === null) return null;
  if (!Number.isFinite(x)) throw new RangeError('non-finite number in a ledger entry');
  return Object.is(x, -0) ? '0' : String(x);
};

/** The entry's canonical text: JSON with sorted keys and every value a string or null. */
export function canonicalEntry(e: ChainEntry): string {
  const fields: Record<string, string | null> = {
    amountIdr: e.amountIdr.toString(),
    at: isoMs(e.at),
    createdAt: isoMs(e.createdAt),
    createdByKeyId: e.createdByKeyId,
    createdByKeyName: e.createdByKeyName,
    departmentId: e.departmentId,
    entryFlags: JSON.stringify(e.entryFlags.map((f) => [f.kind, f.detail])),
    fuelType: e.fuelType,
    id: e.id,
    idempotencyKey: e.idempotencyKey,
    kind: e.kind,
    lat: num(e.lat),
    litres: formatLitres(e.litresMl),
    lon: num(e.lon),
    odometerKm: num(e.odometerKm),
    reason: e.reason,
    receiptNo: e.receiptNo,
    requestSha256: e.requestSha256,
    seq: String(e.seq),
    source: e.source,
    stationCode: e.stationCode,
    vehicleId: e.vehicleId,
    voidsId: e.voidsId,
    voucherCode: e.voucherCode,
  };
  const sorted = Object.keys(fields).sort();
  return JSON.stringify(Object.fromEntries(sorted.map((k) => [k, fields[k]])));
}

/** The entry's hash: hex SHA-256 of the previous hash, a newline and the canonical text. */
export function entryHash(prevHash: string, e: ChainEntry): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalEntry(e)).digest('hex');
}

/** Chains an entry after the previous one (or the genesis). */
export function chain(prev: { seq: number; hash: string } | null, e: Omit<ChainEntry, 'seq'>): ChainedEntry {
  const seq = prev ? prev.seq + 1 : 1;
  const prevHash = prev ? prev.hash : GENESIS_HASH;
  const entry = { ...e, seq };
  return { ...entry, prevHash, hash: entryHash(prevHash, entry) };
}

export type ChainBreak =
  | { seq: number; id: string | null; problem: 'seq_gap'; detail: string }
  | { seq: number; id: string; problem: 'prev_hash_mismatch' | 'hash_mismatch'; detail: string };

/**
 * Walks entries in seq order, page by page: feed each page to `check`; the first break
 * found is kept and later pages are not needed. Seqs start at 1 and have no gaps.
 */
export function createChainVerifier() {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  let broken: ChainBreak | null = null;
  return {
    check(entries: Iterable<ChainedEntry>): ChainBreak | null {
      if (broken) return broken;
      for (const e of entries) {
        if (e.seq !== expectedSeq) {
          broken = {
            seq: expectedSeq,
            id: null,
            problem: 'seq_gap',
            detail: e.seq > expectedSeq ? `entry ${expectedSeq} is missing (the next entry is ${e.seq})` : `entry ${e.seq} appears twice`,
          };
          return broken;
        }
        if (e.prevHash !== prevHash) {
          broken = {
            seq: e.seq,
            id: e.id,
            problem: 'prev_hash_mismatch',
            detail: `entry ${e.seq} does not name the hash of entry ${e.seq - 1}`,
          };
          return broken;
        }
        const recomputed = entryHash(prevHash, e);
        if (recomputed !== e.hash) {
          broken = {
            seq: e.seq,
            id: e.id,
            problem: 'hash_mismatch',
            detail: `entry ${e.seq}'s content does not match its hash: it was changed after it was written`,
          };
          return broken;
        }
        checked++;
        expectedSeq++;
        prevHash = e.hash;
      }
      return null;
    },
    get checked() {
      return checked;
    },
    get lastHash() {
      return prevHash;
    },
    get broken() {
      return broken;
    },
  };
}

/** Verifies a whole chain held in memory. */
export function verifyChain(entries: Iterable<ChainedEntry>): {
  ok: boolean;
  checked: number;
  firstBroken: ChainBreak | null;
  lastHash: string;
} {
  const v = createChainVerifier();
  const firstBroken = v.check(entries);
  return { ok: firstBroken === null, checked: v.checked, firstBroken, lastHash: v.lastHash };
}
