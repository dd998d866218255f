/**
 * Devices split between ingest workers by topic (docs/scale-out.md): worker `index` of
 * `count` owns the devices whose id hashes to it, and its persistent broker session
 * subscribes to exactly their telemetry topics. While a worker is down, the broker keeps
 * its devices' messages in its session; nobody else takes them, so nothing is lost, only
 * late. The hash is FNV-1a (32 bit) over the id's UTF-8 bytes: stable across processes,
 * releases and machines, which is the one property that matters (a device must keep its
 * owner as long as the worker count stays the same).
 */
import { ownTracksTopic, telemetryTopic } from '../domain/topics.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}

/** The index (0 … count − 1) of the worker that owns this device. */
export function ownerOf(deviceId: string, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`worker count must be a positive integer, got ${count}`);
  return fnv1a32(deviceId) % count;
}

/**
 * The topic filter of a device, by its protocol: its telemetry topic, or for an OwnTracks
 * device (id `user/device`) its topic and the app's sub-topics beneath it (`…/#` matches
 * the topic itself too), whose messages are quarantined with a reason.
 */
export function deviceTopic(device: { id: string; protocol: string }): string {
  return device.protocol === 'owntracks' ? `${ownTracksTopic(device.id)}/#` : telemetryTopic(device.id);
}

export interface Partition {
  index: number;
  count: number;
}

/** The topics worker `index` of `count` subscribes to, sorted (stable diffs and logs). */
export function ownedTopics(devices: Iterable<{ id: string; protocol: string }>, partition: Partition): string[] {
  const topics: string[] = [];
  for (const d of devices) if (ownerOf(d.id, partition.count) === partition.index) topics.push(deviceTopic(d));
  return topics.sort();
}
