/**
 * A vehicle's status on the live map, from its newest fix. Pure, so the API, the
 * live feed and the tests agree on one definition.
 */
export type VehicleStatus = 'moving' | 'idle' | 'stopped' | 'offline';

/** Below this a GPS speed is noise from a parked receiver, not motion. */
export const MOTION_SPEED_KMH = 3;
/** A vehicle whose newest fix is older than this is shown as offline. */
export const OFFLINE_AFTER_S = 15 * 60;

export function vehicleStatus(
  latest: { fixAtMs: number; speedKmh: number | null; ignition: boolean | null },
  nowMs: number,
): VehicleStatus {
  if (nowMs - latest.fixAtMs > OFFLINE_AFTER_S * 1000) return 'offline';
  if ((latest.speedKmh ?? 0) >= MOTION_SPEED_KMH) return 'moving';
  return latest.ignition === true ? 'idle' : 'stopped';
}
