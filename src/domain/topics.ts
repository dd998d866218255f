/** MQTT topic names of the public contract (DESIGN.md), built and parsed in one place. */

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export const TELEMETRY_SUBSCRIPTION = 'fleet/v1/devices/+/telemetry';
export const OWNTRACKS_SUBSCRIPTION = 'owntracks/+/+';
export const LIVE_SUBSCRIPTION = 'fleet/v1/live/#';

export type TopicProtocol = 'armada' | 'owntracks';

export function telemetryTopic(deviceId: string): string {
  return `fleet/v1/devices/${deviceId}/telemetry`;
}

export function liveTopic(departmentId: string, vehicleId: string): string {
  return `fleet/v1/live/${departmentId}/${vehicleId}`;
}

/** The device id in `fleet/v1/devices/{deviceId}/telemetry`, or null for any other topic. */
export function deviceIdFromTelemetryTopic(topic: string): string | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== 'fleet' || parts[1] !== 'v1' || parts[2] !== 'devices' || parts[4] !== 'telemetry') {
    return null;
  }
  const id = parts[3]!;
  return DEVICE_ID_PATTERN.test(id) ? id : null;
}

/** Where the alert engine announces a stored alert; under the live topics, so one subscription hears both. */
export function alertTopic(departmentId: string, vehicleId: string): string {
  return `fleet/v1/live/${departmentId}/${vehicleId}/alerts`;
}

/** The OwnTracks topic of a device registered as `user/device`. */
export function ownTracksTopic(deviceId: string): string {
  return `owntracks/${deviceId}`;
}

/**
 * Who published, judged by the topic: `fleet/v1/devices/{id}/telemetry` (Armada) or
 * `owntracks/{user}/{device}` (OwnTracks, device id `user/device`). Null for any other.
 */
export function deviceFromTopic(topic: string): { deviceId: string; protocol: TopicProtocol } | null {
  const armada = deviceIdFromTelemetryTopic(topic);
  if (armada) return { deviceId: armada, protocol: 'armada' };
  const parts = topic.split('/');
  if (parts.length === 3 && parts[0] === 'owntracks' && DEVICE_ID_PATTERN.test(parts[1]!) && DEVICE_ID_PATTERN.test(parts[2]!)) {
    return { deviceId: `${parts[1]}/${parts[2]}`, protocol: 'owntracks' };
  }
  return null;
}

export function parseLiveTopic(topic: string): { departmentId: string; vehicleId: string } | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== 'fleet' || parts[1] !== 'v1' || parts[2] !== 'live') return null;
  return { departmentId: parts[3]!, vehicleId: parts[4]! };
}
