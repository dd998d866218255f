import { describe, expect, it } from 'vitest';
import {
  canonicalEntry,
  chain,
  GENESIS_HASH,
  verifyChain,
  type ChainEntry,
  type ChainedEntry,
} from '../../src/domain/finance/ledger-chain.js';

const base = (i: number): Omit<ChainEntry, 'seq'> => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  kind: 'purchase',
  voidsId: null,
  reason: null,
  vehicleId: '11111111-1111-4111-8111-111111111111',
  departmentId: '22222222-2222-4222-8222-222222222222',
  at: new Date(Date.UTC(2026, 10, 14, 2, 10, 0, 5)),
  litresMl: 35_420n + BigInt(i),
  amountIdr: 354_200n,
  fuelType: 'pertalite',
  stationCode: '54.851.01',
  lat: -10.1633,
  lon: 123.6044,
  receiptNo: `R-${i}`,
  odometerKm: null,
  voucherCode: null,
  source: 'api',
  idempotencyKey: null,
  requestSha256: null,
  entryFlags: [{ kind: 'duplicate_receipt', detail: 'x' }],
  createdAt: new Date(Date.UTC(2026, 10, 15, 4)),
  createdByKeyId: null,
  createdByKeyName: 'Bu Rina',
});

function build(n: number): ChainedEntry[] {
  const out: ChainedEntry[] = [];
  for (let i = 0; i < n; i++) out.push(chain(out[out.length - 1] ?? null, base(i)));
  return out;
}

describe('the canonical form', () => {
  it('writes litres with three decimals, rupiah as integers, times as ISO UTC ms, keys sorted', () => {
    const text = canonicalEntry({ ...base(0), seq: 1 });
    const parsed = JSON.parse(text) as Record<string, string | null>;
    expect(parsed.litres).toBe('35.420');
    expect(parsed.amountIdr).toBe('354200');
    expect(parsed.at).toBe('2026-11-14T02:10:00.005Z');
    expect(Object.keys(parsed)).toEqual([...Object.keys(parsed)].sort());
    // The same content built in another key order hashes the same.
    const reordered = Object.fromEntries(Object.entries({ ...base(0), seq: 1 }).reverse()) as unknown as ChainEntry;
    expect(canonicalEntry(reordered)).toBe(text);
  });
});

describe('the chain', () => {
  it('links each entry to the previous hash and verifies', () => {
    const entries = build(5);
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(verifyChain(entries)).toMatchObject({ ok: true, checked: 5, firstBroken: null, lastHash: entries[4]!.hash });
  });

  it('names the first changed, removed or reordered entry', () => {
    const changed = build(5);
    changed[2] = { ...changed[2]!, litresMl: changed[2]!.litresMl + 1n };
    expect(verifyChain(changed).firstBroken).toMatchObject({ seq: 3, problem: 'hash_mismatch' });
    const removed = build(5).filter((e) => e.seq !== 2);
    expect(verifyChain(removed).firstBroken).toMatchObject({ seq: 2, problem: 'seq_gap' });
    // Rehashed after a change, the next entry still names the old hash.
    const forged = build(5);
    const f = chain({ seq: 1, hash: forged[0]!.hash }, { ...base(1), amountIdr: 1n });
    forged[1] = f;
    expect(verifyChain(forged).firstBroken).toMatchObject({ seq: 3, problem: 'prev_hash_mismatch' });
    const flagsChanged = build(3);
    flagsChanged[0] = { ...flagsChanged[0]!, entryFlags: [] };
    expect(verifyChain(flagsChanged).firstBroken).toMatchObject({ seq: 1, problem: 'hash_mismatch' });
  });
});
