import { describe, expect, it } from 'vitest';
import { cachedDeviceLookup } from '../../src/ingest/device-cache.js';
import type { DeviceIdentity } from '../../src/domain/ingest-types.js';

const device = (id: string, active = true): DeviceIdentity => ({
  id,
  vehicleId: `v-${id}`,
  departmentId: 'd',
  protocol: 'armada',
  secretHash: 'x',
  active,
});

function fakeTable(initial: DeviceIdentity[]) {
  const rows = new Map(initial.map((d) => [d.id, d]));
  const calls = { find: 0, all: 0 };
  return {
    rows,
    calls,
    find: async (id: string) => {
      calls.find++;
      return rows.get(id);
    },
    loadAll: async () => {
      calls.all++;
      return [...rows.values()];
    },
  };
}

describe('device lookup cache', () => {
  it('reads the whole table once, then answers every device from memory until the copy is old', async () => {
    let t = 0;
    const table = fakeTable(Array.from({ length: 1000 }, (_, i) => device(`dev-${i}`)));
    const lookup = cachedDeviceLookup(table.find, { loadAll: table.loadAll, ttlMs: 10_000, now: () => t });
    expect((await lookup('dev-1'))?.vehicleId).toBe('v-dev-1');
    for (let i = 0; i < 1000; i++) expect(lookup(`dev-${i}`)).toMatchObject({ id: `dev-${i}` });
    expect(table.calls).toEqual({ find: 0, all: 1 });

    // Ten seconds on, a lookup waits for one fresh read of the table and sees the change.
    table.rows.set('dev-7', device('dev-7', false));
    t = 10_001;
    const answers = await Promise.all([lookup('dev-7'), lookup('dev-8'), lookup('dev-9')]);
    expect(answers.map((d) => d?.active)).toEqual([false, true, true]);
    expect(table.calls).toEqual({ find: 0, all: 2 });
  });

  it('asks about a device the copy does not know on its own, and about an unknown one again after missTtlMs', async () => {
    let t = 0;
    const table = fakeTable([device('a')]);
    const lookup = cachedDeviceLookup(table.find, { loadAll: table.loadAll, ttlMs: 10_000, missTtlMs: 1_000, now: () => t });
    await lookup('a');
    expect(await lookup('new')).toBeUndefined();
    expect(lookup('new')).toBeUndefined(); // the miss is remembered: no query
    expect(table.calls).toEqual({ find: 1, all: 1 });
    table.rows.set('new', device('new'));
    t = 1_001;
    expect(await lookup('new')).toMatchObject({ id: 'new' });
    expect(table.calls).toEqual({ find: 2, all: 1 });
  });

  it('without loadAll, asks per device and keeps each answer for ttlMs', async () => {
    let t = 0;
    const table = fakeTable([device('a')]);
    const lookup = cachedDeviceLookup(table.find, { ttlMs: 5_000, now: () => t });
    expect(await lookup('a')).toMatchObject({ id: 'a' });
    expect(lookup('a')).toMatchObject({ id: 'a' });
    t = 5_001;
    expect(await lookup('a')).toMatchObject({ id: 'a' });
    expect(table.calls).toEqual({ find: 2, all: 0 });
  });

  it('passes a failed read of the table on to the batch, and reads again next time', async () => {
    const table = fakeTable([device('a')]);
    let fail = true;
    const lookup = cachedDeviceLookup(table.find, {
      loadAll: async () => {
        if (fail) throw new Error('database down');
        return table.loadAll();
      },
    });
    await expect(lookup('a')).rejects.toThrow('database down');
    fail = false;
    expect(await lookup('a')).toMatchObject({ id: 'a' });
  });
});
