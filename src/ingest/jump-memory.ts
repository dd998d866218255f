/**
 * What the jump filter remembers between batches, in this process: each vehicle's newest
 * accepted fix (a new fix is judged against it), and the fixes it rejected as GPS jumps.
 *
 * - It starts from the committed latest positions (vehicle_latest), so a jump across a
 *   restart is caught.
 * - After a failed commit it is dropped and read again before the next batch: fixes that
 *   were never committed must not vouch for the redelivered readings judged against them.
 *   A failed read fails that batch (it is redelivered) rather than judging without memory.
 * - The fixes rejected as jumps are kept apart, a few per vehicle, and survive a drop: a
 *   jump redelivered after a newer fix was committed meanwhile (commits overlap) would
 *   otherwise be older than the newest fix, and older readings are not judged.
 */

export interface Fix {
  fixAtMs: number;
  lat: number;
  lon: number;
}

/** Each vehicle's newest committed fix (vehicle_latest), to start the memory from. */
export type NewestFixLoader = () => Promise<Iterable<readonly [vehicleId: string, fix: Fix]>>;

/** Fix times rejected as jumps kept per vehicle; the oldest is dropped beyond this. */
export const JUMPS_REMEMBERED = 32;

export interface JumpMemory {
  /** Reads the committed fixes when the memory is new or was dropped; a failed read rejects. */
  ready(): Promise<void>;
  /** The vehicle's newest fix accepted so far, if any. */
  newest(vehicleId: string): Fix | undefined;
  /** A reading passed the filters: it becomes the vehicle's newest fix if it is newer. */
  accept(vehicleId: string, fix: Fix): void;
  /** Whether this fix time of the vehicle was rejected as a jump before. */
  wasJump(vehicleId: string, fixAtMs: number): boolean;
  /** The fix was rejected as a jump: remember it (once). */
  rememberJump(vehicleId: string, fixAtMs: number): void;
  /** A batch failed to commit: drop the newest fixes, read the committed ones again before the next batch. */
  forget(): void;
}

export function createJumpMemory(load?: NewestFixLoader): JumpMemory {
  let newestFix = new Map<string, Fix>();
  /** The memory must be (re)read from the database before the next batch. */
  let stale = load !== undefined;
  /** Fix times rejected as jumps, per vehicle, newest last. */
  const rejectedJumps = new Map<string, number[]>();

  return {
    async ready() {
      if (!stale || !load) return;
      const fresh = new Map<string, Fix>();
      for (const [vehicleId, fix] of await load()) fresh.set(vehicleId, { fixAtMs: fix.fixAtMs, lat: fix.lat, lon: fix.lon });
      newestFix = fresh;
      stale = false;
    },
    newest: (vehicleId) => newestFix.get(vehicleId),
    accept(vehicleId, fix) {
      const previous = newestFix.get(vehicleId);
      if (!previous) newestFix.set(vehicleId, { fixAtMs: fix.fixAtMs, lat: fix.lat, lon: fix.lon });
      else if (fix.fixAtMs > previous.fixAtMs) {
        // Updated in place: one object per vehicle, not one per reading.
        previous.fixAtMs = fix.fixAtMs;
        previous.lat = fix.lat;
        previous.lon = fix.lon;
      }
    },
    wasJump: (vehicleId, fixAtMs) => rejectedJumps.get(vehicleId)?.includes(fixAtMs) ?? false,
    rememberJump(vehicleId, fixAtMs) {
      const list = rejectedJumps.get(vehicleId) ?? [];
      if (list.includes(fixAtMs)) return;
      list.push(fixAtMs);
      if (list.length > JUMPS_REMEMBERED) list.shift();
      rejectedJumps.set(vehicleId, list);
    },
    forget() {
      newestFix = new Map();
      stale = load !== undefined;
    },
  };
}
