/** MQTT topic names of the public contract (docs/mqtt.md), built and parsed in one place. */

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export const TELEMETRY_SUBSCRIPTION = 'fleet/v1/devices/+/telemetry';
/** Every OwnTracks topic: messages on the app's sub-topics and on wrong levels are quarantined with a reason, not lost. */
export const OWNTRACKS_SUBSCRIPTION = 'owntracks/#';
/** The OwnTracks subscription of earlier versions; a persistent session may still hold it. */
export const LEGACY_OWNTRACKS_SUBSCRIPTION = 'owntracks/+/+';
export const LIVE_SUBSCRIPTION = 'fleet/v1/live/#';

export type TopicProtocol = 'armada' | 'owntracks';

export function telemetryTopic(deviceId: string): string {
  return `fleet/v1/devices/${deviceId}/telemetry`;
}

export function liveTopic(departmentId: string, vehicleId: string): string {
  return `fleet/v1/live/${departmentId}/${vehicleId}`;
}

const TELEMETRY_PREFIX = 'fleet/v1/devices/';
const TELEMETRY_SUFFIX = '/telemetry';

/** The device id in `fleet/v1/devices/{deviceId}/telemetry`, or null for any other topic. */
export function deviceIdFromTelemetryTopic(topic: string): string | null {
  // Every stored reading's topic passes here: no split into parts. The id's pattern has no
  // '/', so what lies between the two ends is exactly the one level between them.
  if (!topic.startsWith(TELEMETRY_PREFIX) || !topic.endsWith(TELEMETRY_SUFFIX)) return null;
  const id = topic.slice(TELEMETRY_PREFIX.length, topic.length - TELEMETRY_SUFFIX.length);
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
 * The MQTT user name a phone uses for an OwnTracks device `user/device`: the user part. The
 * app publishes on `owntracks/%u/%d` (user name, device id), so with this name and the
 * device id `device` it publishes on the device's own topic with the app's defaults.
 */
export function ownTracksUsername(deviceId: string): string {
  return deviceId.split('/')[0]!;
}

/** Every topic under an OwnTracks user: what a worker subscribes to for one of its phones. */
export function ownTracksUserFilter(deviceId: string): string {
  return `owntracks/${ownTracksUsername(deviceId)}/#`;
}

/**
 * Who published, judged by the topic: `fleet/v1/devices/{id}/telemetry` (Armada) or
 * `owntracks/{user}/{device}` (OwnTracks, device id `user/device`). Beneath an OwnTracks
 * device's topic (the app's `event`, `info`, `waypoints` …, or a level the app added),
 * `subtopic` holds the rest: that message is the device's, and carries no position there.
 * Null for any other topic.
 */
export function deviceFromTopic(topic: string): { deviceId: string; protocol: TopicProtocol; subtopic?: string } | null {
  const armada = deviceIdFromTelemetryTopic(topic);
  if (armada) return { deviceId: armada, protocol: 'armada' };
  const parts = topic.split('/');
  if (parts.length >= 3 && parts[0] === 'owntracks' && DEVICE_ID_PATTERN.test(parts[1]!) && DEVICE_ID_PATTERN.test(parts[2]!)) {
    const deviceId = `${parts[1]}/${parts[2]}`;
    if (parts.length === 3) return { deviceId, protocol: 'owntracks' };
    return { deviceId, protocol: 'owntracks', subtopic: parts.slice(3).join('/') };
  }
  return null;
}
