/**
 * Device lookups for the ingest pipeline, cached: every message names its device, and
 * asking the database each time would cost one query per message.
 *
 * With `loadAll`, the whole device table is read in one query and read again once its
 * copy is `ttlMs` old; an entry is never answered older than that, so a deactivated
 * device is seen as such within `ttlMs`. A fleet of 10,000 trackers reporting every
 * ten seconds costs one query per `ttlMs`, not one per message. A device the copy does
 * not know is asked about on its own, and an unknown one again after `missTtlMs`, so a
 * device registered a moment ago is found quickly.
 */
import type { DeviceIdentity } from '../domain/ingest-types.js';

interface Entry {
  device: DeviceIdentity | undefined;
  expiresAtMs: number;
}

export function cachedDeviceLookup(
  find: (id: string) => Promise<DeviceIdentity | undefined>,
  options: { loadAll?: () => Promise<DeviceIdentity[]>; ttlMs?: number; missTtlMs?: number; now?: () => number; maxEntries?: number } = {},
) {
  const ttlMs = options.ttlMs ?? 10_000;
  const missTtlMs = options.missTtlMs ?? 1_000;
  const maxEntries = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  const { loadAll } = options;
  const cache = new Map<string, Entry>();
  let refreshing: Promise<void> | undefined;
  let everLoaded = false;

  async function load(id: string, t: number): Promise<DeviceIdentity | undefined> {
    const device = await find(id);
    if (cache.size >= maxEntries) cache.clear();
    cache.set(id, { device, expiresAtMs: t + (device ? ttlMs : missTtlMs) });
    return device;
  }

  /** One query for the whole table; lookups that need it share it. */
  function refreshAll(all: () => Promise<DeviceIdentity[]>): Promise<void> {
    refreshing ??= (async () => {
      const t = now();
      const devices = await all();
      cache.clear();
      for (const device of devices) cache.set(device.id, { device, expiresAtMs: t + ttlMs });
      everLoaded = true;
    })().finally(() => (refreshing = undefined));
    return refreshing;
  }

  async function afterRefresh(id: string, all: () => Promise<DeviceIdentity[]>): Promise<DeviceIdentity | undefined> {
    await refreshAll(all);
    const t = now();
    const entry = cache.get(id);
    return entry && entry.expiresAtMs > t ? entry.device : load(id, t);
  }

  /** Answers at once from the cache (no promise, no microtask per message), else asks the database. */
  return function lookupDevice(id: string): DeviceIdentity | undefined | Promise<DeviceIdentity | undefined> {
    const t = now();
    const hit = cache.get(id);
    if (hit && hit.expiresAtMs > t) return hit.device;
    // A known device whose copy is stale, or the first lookup of all: read the table again.
    if (loadAll && (!everLoaded || hit?.device !== undefined)) return afterRefresh(id, loadAll);
    return load(id, t);
  };
}
