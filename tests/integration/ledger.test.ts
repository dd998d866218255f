/**
 * The purchase ledger (issue 11): validation naming the field, idempotency, duplicate
 * receipts, voids, append-only enforced by the database, one unbroken chain under
 * concurrent appends, and tampering found by verify. Runs on PostgreSQL and on PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDepartment, createVehicle, issueKey } from '../support/api-fixtures.js';
import { startTestService, type TestService } from '../support/service.js';

const NOW = new Date('2026-11-15T04:00:00.000Z');
let t: TestService;
let dep: string;
let vehicleId: string;
let otherVehicleId: string;
let financeKey: string;

type Entry = {
  id: string;
  seq: number;
  kind: string;
  litres: number;
  amountIdr: number;
  entryFlags: Array<{ kind: string; detail: string }>;
  voidedBy: { id: string } | null;
  position: { lat: number; lon: number; source: string } | null;
  prevHash: string;
  hash: string;
  createdBy: { keyId: string | null; keyName: string | null };
};

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

const post = (body: unknown, headers: Record<string, string> = {}) =>
  t.api('/api/v1/fuel-purchases', { method: 'POST', json: body, key: financeKey, headers });

const purchase = (over: Record<string, unknown> = {}) => ({
  vehicleId,
  at: '2026-11-14T02:10:00+08:00',
  litres: 35.42,
  amountIdr: 354_200,
  fuelType: 'pertalite',
  receiptNo: `R-${Math.random().toString(36).slice(2, 10)}`,
  ...over,
});

beforeAll(async () => {
  t = await startTestService({ roles: { api: true, worker: false }, listen: false, now: () => NOW });
  dep = await createDepartment(t, 'DLH', 'Dinas Lingkungan Hidup');
  const vehicle = (plate: string) => createVehicle(t, plate, dep);
  vehicleId = await vehicle('DH 1001 AA');
  otherVehicleId = await vehicle('DH 1002 AA');
  financeKey = (await issueKey(t, 'finance', { name: 'Bu Rina (keuangan)' })).key;
  // The test writes stations directly: the register's own route has its own tests.
  await t.services.repos.stations.create(
    { code: '54.851.01', name: 'SPBU Oebobo', lat: -10.1633, lon: 123.6044 },
    { keyId: null, keyName: null },
    NOW,
  );
});

afterAll(async () => {
  await t?.close();
});

describe('recording a purchase', () => {
  it('appends a chained entry with who wrote it, and the station position when the receipt has none', async () => {
    const res = await post(purchase({ station: '54.851.01', litres: '20.005', amountIdr: 200_050 }));
    expect(res.status).toBe(201);
    const e = await json<Entry>(res);
    expect(e.litres).toBe(20.005);
    expect(e.amountIdr).toBe(200_050);
    expect(e.position).toEqual({ lat: -10.1633, lon: 123.6044, source: 'station' });
    expect(e.createdBy.keyName).toBe('Bu Rina (keuangan)');
    expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    const withPosition = await json<Entry>(await post(purchase({ station: '54.851.01', lat: -10.2, lon: 123.5 })));
    expect(withPosition.position).toEqual({ lat: -10.2, lon: 123.5, source: 'receipt' });
    expect(withPosition.seq).toBe(e.seq + 1);
    expect(withPosition.prevHash).toBe(e.hash);
  });

  it('refuses bad input with a 400 that names the field, and writes nothing', async () => {
    const before = (await json<{ total: number }>(await t.api('/api/v1/fuel-purchases'))).total;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ litres: 0 }, 'body.litres'],
      [{ litres: -3 }, 'body.litres'],
      [{ litres: '1.2345' }, 'body.litres'],
      [{ amountIdr: -1 }, 'body.amountIdr'],
      [{ amountIdr: 100.5 }, 'body.amountIdr'],
      [{ at: '2026-11-15T05:00:00Z' }, 'body.at'],
      [{ fuelType: 'avtur' }, 'body.fuelType'],
      [{ fuelType: 'electric' }, 'body.fuelType'],
      [{ lat: -10.1 }, 'body.lon'],
    ];
    for (const [over, field] of cases) {
      const res = await post(purchase(over));
      const body = await json<{ error: { message: string } }>(res);
      expect(res.status, JSON.stringify(over)).toBe(400);
      expect(body.error.message, JSON.stringify(over)).toContain(field);
    }
    // A receipt printer's clock a few minutes fast is not "in the future" (LEDGER_MAX_FUTURE_S, 300 s).
    expect((await post(purchase({ at: '2026-11-15T04:04:00Z' }))).status).toBe(201);
    // A station not in the register is recorded and flagged, not refused: the ledger records facts.
    const unregistered = await post(purchase({ station: '99.999.99' }));
    expect(unregistered.status).toBe(201);
    const u = await json<Entry>(unregistered);
    expect(u.entryFlags.map((f) => f.kind)).toEqual(['unknown_station']);
    expect(u.position).toBeNull();
    const unknown = await post(purchase({ vehicleId: '00000000-0000-4000-8000-000000000000' }));
    expect(unknown.status).toBe(404);
    expect((await json<{ error: { message: string } }>(unknown)).error.message).toContain('vehicleId');
    expect((await json<{ total: number }>(await t.api('/api/v1/fuel-purchases'))).total).toBe(before + 2);
  });

  it('answers the same receipt posted twice with the same entry (200)', async () => {
    const body = purchase();
    const first = await post(body);
    expect(first.status).toBe(201);
    // The same content in another form (litres as text, another offset for the same instant).
    const again = await post({ ...body, litres: '35.420', at: '2026-11-13T18:10:00Z' });
    expect(again.status).toBe(200);
    expect((await json<Entry>(again)).id).toBe((await json<Entry>(first)).id);
  });

  it('treats the same Idempotency-Key as the same purchase, and a different body under it as a 409 that says so', async () => {
    const key = `idem-${Math.random()}`;
    const body = purchase({ receiptNo: undefined });
    const first = await post(body, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    const again = await post(body, { 'idempotency-key': key });
    expect(again.status).toBe(200);
    expect((await json<Entry>(again)).id).toBe((await json<Entry>(first)).id);
    const conflict = await post({ ...body, litres: 36 }, { 'idempotency-key': key });
    expect(conflict.status).toBe(409);
    expect((await json<{ error: { message: string } }>(conflict)).error.message).toMatch(/Idempotency-Key .* different/);
  });

  it('stores a receipt number standing with other content, flagged duplicate_receipt; after a void it is a plain new entry', async () => {
    const first = await json<Entry>(await post(purchase({ receiptNo: 'STRUK-0042', station: '54.851.01' })));
    expect(first.entryFlags).toEqual([]);
    const dup = await post(
      purchase({ receiptNo: 'STRUK-0042', station: '54.851.01', vehicleId: otherVehicleId, litres: 40, amountIdr: 400_000 }),
    );
    expect(dup.status).toBe(201);
    const dupEntry = await json<Entry>(dup);
    expect(dupEntry.entryFlags.map((f) => f.kind)).toEqual(['duplicate_receipt']);
    expect(dupEntry.entryFlags[0]!.detail).toContain(first.id);
    // Leaving the station out does not hide the reuse; another station's receipt 0042 is another receipt.
    const noStation = await json<Entry>(await post(purchase({ receiptNo: 'STRUK-0042', litres: 41, amountIdr: 410_000 })));
    expect(noStation.entryFlags.map((f) => f.kind)).toEqual(['duplicate_receipt']);
    await t.api(`/api/v1/fuel-purchases/${noStation.id}/void`, { method: 'POST', key: financeKey, json: { reason: 'test cleanup' } });
    await t.services.repos.stations.create(
      { code: '54.851.09', name: 'SPBU Lain', lat: -10.2, lon: 123.6 },
      { keyId: null, keyName: null },
      NOW,
    );
    const otherStation = await json<Entry>(
      await post(purchase({ receiptNo: 'STRUK-0042', station: '54.851.09', litres: 5, amountIdr: 50_000 })),
    );
    expect(otherStation.entryFlags).toEqual([]);
    await t.api(`/api/v1/fuel-purchases/${otherStation.id}/void`, { method: 'POST', key: financeKey, json: { reason: 'test cleanup' } });
    // Both voided: a corrected receipt is then a new entry without a flag.
    for (const id of [first.id, dupEntry.id]) {
      expect(
        (
          await t.api(`/api/v1/fuel-purchases/${id}/void`, {
            method: 'POST',
            key: financeKey,
            json: { reason: 'wrong litres on the statement' },
          })
        ).status,
      ).toBe(201);
    }
    const corrected = await json<Entry>(
      await post(purchase({ receiptNo: 'STRUK-0042', station: '54.851.01', litres: 30, amountIdr: 300_000 })),
    );
    expect(corrected.entryFlags).toEqual([]);
  });
});

describe('voids', () => {
  it('voids a purchase at most once, and sums leave it out', async () => {
    const vehicleFilter = `vehicleId=${otherVehicleId}&from=2026-11-10&to=2026-11-10`;
    const p = await json<Entry>(
      await post(purchase({ vehicleId: otherVehicleId, at: '2026-11-10T09:00:00+08:00', litres: 12.5, amountIdr: 125_000 })),
    );
    const sums = async () =>
      (
        await json<{ standing: { count: number; litres: number; amountIdr: number } }>(
          await t.api(`/api/v1/fuel-purchases?${vehicleFilter}`),
        )
      ).standing;
    expect(await sums()).toEqual({ count: 1, litres: 12.5, amountIdr: 125_000 });
    const v = await t.api(`/api/v1/fuel-purchases/${p.id}/void`, {
      method: 'POST',
      key: financeKey,
      json: { reason: 'posted for the wrong vehicle' },
    });
    expect(v.status).toBe(201);
    const voidEntry = await json<Entry & { voidsId: string }>(v);
    expect(voidEntry.kind).toBe('void');
    expect(voidEntry.voidsId).toBe(p.id);
    expect(await sums()).toEqual({ count: 0, litres: 0, amountIdr: 0 });
    const shown = await json<Entry>(await t.api(`/api/v1/fuel-purchases/${p.id}`));
    expect(shown.voidedBy?.id).toBe(voidEntry.id);
    const twice = await t.api(`/api/v1/fuel-purchases/${p.id}/void`, { method: 'POST', key: financeKey, json: { reason: 'again' } });
    expect(twice.status).toBe(409);
    expect((await json<{ error: { message: string } }>(twice)).error.message).toContain('already voided');
    const ofVoid = await t.api(`/api/v1/fuel-purchases/${voidEntry.id}/void`, {
      method: 'POST',
      key: financeKey,
      json: { reason: 'void the void' },
    });
    expect(ofVoid.status).toBe(400);
    const effective = await t.services.repos.purchases.effectivePurchases({
      vehicleIds: [otherVehicleId],
      fromMs: Date.parse('2026-11-10T00:00:00+08:00'),
      toMs: Date.parse('2026-11-11T00:00:00+08:00'),
    });
    expect(effective).toEqual([]);
  });
});

describe('the database keeps the ledger append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE whatever the application does', async () => {
    const db = t.services.database;
    await expect(db.query('UPDATE fuel_purchases SET litres = litres + 1')).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM fuel_purchases')).rejects.toThrow(/append-only/);
    await expect(db.query('TRUNCATE fuel_purchases')).rejects.toThrow(/append-only/);
    await expect(db.query('UPDATE audit_log SET key_name = $1', ['someone else'])).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
  });
});

describe('the hash chain', () => {
  it('stays one unbroken chain under concurrent appends', async () => {
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        post(purchase({ vehicleId: i % 2 ? vehicleId : otherVehicleId, at: `2026-11-12T0${i % 10}:00:00+08:00` })),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(24).fill(201));
    const rows = await t.services.database.query<{ seq: string }>('SELECT p.seq::text AS seq FROM fuel_purchases p ORDER BY p.seq');
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
    const verify = await json<{ ok: boolean; checked: number }>(await t.api('/api/v1/fuel-purchases/verify'));
    expect(verify).toMatchObject({ ok: true, checked: rows.length, firstBroken: null });
  });

  it('names the first entry that was changed behind the triggers', async () => {
    const db = t.services.database;
    const [victim] = await db.query<{ id: string; seq: string }>(
      'SELECT p.id, p.seq::text AS seq FROM fuel_purchases p ORDER BY p.seq OFFSET 3 LIMIT 1',
    );
    // A superuser can switch the trigger off: the chain still tells.
    await db.query('ALTER TABLE fuel_purchases DISABLE TRIGGER fuel_purchases_append_only');
    await db.query('UPDATE fuel_purchases SET litres = litres - 0.001 WHERE id = $1', [victim!.id]);
    await db.query('ALTER TABLE fuel_purchases ENABLE TRIGGER fuel_purchases_append_only');
    const res = await t.api('/api/v1/fuel-purchases/verify', { key: financeKey });
    const verify = await json<{ ok: boolean; checked: number; firstBroken: { seq: number; id: string; problem: string } }>(res);
    expect(verify.ok).toBe(false);
    expect(verify.checked).toBe(Number(victim!.seq) - 1);
    expect(verify.firstBroken).toMatchObject({ seq: Number(victim!.seq), id: victim!.id, problem: 'hash_mismatch' });
    // Put back, it verifies again: what is hashed is exactly what is stored.
    await db.query('ALTER TABLE fuel_purchases DISABLE TRIGGER fuel_purchases_append_only');
    await db.query('UPDATE fuel_purchases SET litres = litres + 0.001 WHERE id = $1', [victim!.id]);
    await db.query('ALTER TABLE fuel_purchases ENABLE TRIGGER fuel_purchases_append_only');
    expect((await json<{ ok: boolean }>(await t.api('/api/v1/fuel-purchases/verify'))).ok).toBe(true);
  });
});
