/**
 * The pieces of the partitioned scale-out that need no servers: the owner of a device
 * (stable, balanced), the topics a worker subscribes to, and the settings that choose
 * its share. The SIGKILL storm with two worker processes is in ingest-scale.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { deviceTopic, fnv1a32, ownedTopics, ownerOf } from '../../src/ingest/partition.js';

describe('ownerOf', () => {
  it('is FNV-1a 32 over the UTF-8 bytes (published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('gives a device the same owner every time, whatever else is asked in between', () => {
    const first = Array.from({ length: 1000 }, (_, i) => ownerOf(`dev-${i}`, 7));
    Array.from({ length: 500 }, (_, i) => ownerOf(`other-${i}`, 3));
    expect(Array.from({ length: 1000 }, (_, i) => ownerOf(`dev-${i}`, 7))).toEqual(first);
    // Fixed values: a change of hash would silently move every device to another worker.
    expect([ownerOf('crash-0', 2), ownerOf('crash-1', 2), ownerOf('budi/phone', 3), ownerOf('dh-1234-ab', 4)]).toEqual([
      fnv1a32('crash-0') % 2,
      fnv1a32('crash-1') % 2,
      fnv1a32('budi/phone') % 3,
      fnv1a32('dh-1234-ab') % 4,
    ]);
  });

  it('spreads 10,000 ids within 5% of an even share, for 2 to 8 workers', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => (i % 2 === 0 ? `kupang-${i}` : `${(i * 7919).toString(36)}/phone`));
    for (let count = 2; count <= 8; count++) {
      const counts = new Array<number>(count).fill(0);
      for (const id of ids) counts[ownerOf(id, count)]!++;
      const even = ids.length / count;
      for (const n of counts) expect(Math.abs(n - even) / even).toBeLessThan(0.05);
    }
  });

  it('with one worker, owns everything', () => {
    expect(ownerOf('anything', 1)).toBe(0);
    expect(() => ownerOf('x', 0)).toThrow(RangeError);
  });
});

describe('ownedTopics', () => {
  const devices = Array.from({ length: 40 }, (_, i) =>
    i % 4 === 0 ? { id: `user${i}/phone`, protocol: 'owntracks' } : { id: `dev-${i}`, protocol: 'armada' },
  );

  it('splits the topics of both protocols between the workers, each exactly once', () => {
    const shares = [0, 1, 2].map((index) => ownedTopics(devices, { index, count: 3 }));
    const all = shares.flat();
    expect(new Set(all).size).toBe(devices.length);
    expect(all.sort()).toEqual(devices.map(deviceTopic).sort());
    // A phone's topic and the app's sub-topics beneath it (quarantined with a reason).
    expect(all).toContain('owntracks/user0/phone/#');
    expect(all).toContain('fleet/v1/devices/dev-1/telemetry');
    for (const share of shares) expect(share.length).toBeGreaterThan(0);
  });
});

describe('worker settings', () => {
  const base = { MQTT_URL: 'mqtt://broker:1883' };

  it('defaults to one worker that owns every device', () => {
    expect(loadConfig({})).toMatchObject({ workerCount: 1, workerIndex: 0, workerId: '1', deviceRefreshMs: 5000 });
  });

  it('reads the share of one worker of several', () => {
    expect(loadConfig({ ...base, WORKER_COUNT: '3', WORKER_INDEX: '2', WORKER_ID: 'ingest-2', DEVICE_REFRESH_MS: '1000' })).toMatchObject({
      workerCount: 3,
      workerIndex: 2,
      workerId: 'ingest-2',
      deviceRefreshMs: 1000,
    });
  });

  it('refuses an index outside the count, a missing WORKER_ID, and the embedded broker', () => {
    const problems = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig(env);
      } catch (err) {
        if (err instanceof ConfigError) return err.problems.join('\n');
        throw err;
      }
      return '';
    };
    expect(problems({ ...base, WORKER_COUNT: '2', WORKER_INDEX: '2', WORKER_ID: 'w' })).toMatch(
      /WORKER_INDEX must be less than WORKER_COUNT/,
    );
    expect(problems({ ...base, WORKER_COUNT: '2', WORKER_INDEX: '1' })).toMatch(/WORKER_ID must be set/);
    expect(problems({ WORKER_COUNT: '2', WORKER_INDEX: '0', WORKER_ID: 'w' })).toMatch(/needs MQTT_URL/);
    expect(problems({ WORKER_COUNT: '0' })).toMatch(/WORKER_COUNT/);
    expect(problems({ INGEST_SUBSCRIPTIONS: 'per-device' })).toMatch(/per-device needs MQTT_URL/);
    expect(problems({ ...base, INGEST_SUBSCRIPTIONS: 'some' })).toMatch(/INGEST_SUBSCRIPTIONS/);
    expect(problems({ WORKER_INDEX: '-1' })).toMatch(/WORKER_INDEX/);
  });

  it('takes a shared subscription group with an external broker and a WORKER_ID, not with a worker count', () => {
    const problems = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig(env);
      } catch (err) {
        if (err instanceof ConfigError) return err.problems.join('\n');
        throw err;
      }
      return '';
    };
    expect(loadConfig({ ...base, INGEST_SUBSCRIPTIONS: 'shared', WORKER_ID: 'ingest-a' })).toMatchObject({
      ingestSubscriptions: 'shared',
      ingestShareGroup: 'armada-ingest',
    });
    expect(problems({ INGEST_SUBSCRIPTIONS: 'shared', WORKER_ID: 'a' })).toMatch(/shared needs MQTT_URL/);
    expect(problems({ ...base, INGEST_SUBSCRIPTIONS: 'shared' })).toMatch(/shared needs WORKER_ID/);
    expect(problems({ ...base, INGEST_SUBSCRIPTIONS: 'shared', WORKER_ID: 'a', WORKER_COUNT: '2' })).toMatch(
      /shared takes no WORKER_COUNT/,
    );
    expect(problems({ ...base, INGEST_SUBSCRIPTIONS: 'shared', WORKER_ID: 'a', INGEST_SHARE_GROUP: 'a/b' })).toMatch(/INGEST_SHARE_GROUP/);
  });
});
