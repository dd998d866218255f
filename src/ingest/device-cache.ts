/**
 * Device lookups for the ingest pipeline, cached: every message names its device, and
 * asking the database each time would cost one query per message. A deactivated device
 * is seen as such within `ttlMs`; an unknown one is asked about again after `missTtlMs`,
 * so a device registered a moment ago is found quickly.
 */
import type { DeviceIdentity } from '../repositories/devices.js';

export function cachedDeviceLookup(
  find: (id: string) => Promise<DeviceIdentity | undefined>,
  options: { ttlMs?: number; missTtlMs?: number; now?: () => number; maxEntries?: number } = {},
) {
  const ttlMs = options.ttlMs ?? 10_000;
  const missTtlMs = options.missTtlMs ?? 1_000;
  const maxEntries = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { device: DeviceIdentity | undefined; expiresAtMs: number }>();

  async function load(id: string, t: number): Promise<DeviceIdentity | undefined> {
    const device = await find(id);
    if (cache.size >= maxEntries) cache.clear();
    cache.set(id, { device, expiresAtMs: t + (device ? ttlMs : missTtlMs) });
    return device;
  }

  /** Answers at once from the cache (no promise, no microtask per message), else asks the database. */
  return function lookupDevice(id: string): DeviceIdentity | undefined | Promise<DeviceIdentity | undefined> {
    const t = now();
    const hit = cache.get(id);
    if (hit && hit.expiresAtMs > t) return hit.device;
    return load(id, t);
  };
}
