/**
 * Mosquitto's password and ACL files, written from the devices table
 * (`tsx src/cli.ts mosquitto-auth`). Device secrets are stored as Mosquitto `$7$`
 * PBKDF2-SHA512 hashes, so a password line is `<device id>:<stored hash>`. The devices'
 * file holds devices only; the service user has its own file, for the service listener
 * (deploy/mosquitto/mosquitto.conf), its line hashed here from its password. Only
 * active devices get a line: a deactivated device is refused at its next connection
 * once Mosquitto has reloaded the files (SIGHUP).
 *
 * Files are rewritten in place (truncate and write, same inode), never replaced by a
 * rename: docker compose bind-mounts the single files, and the container would go
 * on seeing a replaced file's old inode.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { ownTracksUsername } from '../domain/topics.js';
import { emqxCredential, hashDeviceSecret } from '../security/secrets.js';

export interface DeviceCredential {
  id: string;
  secretHash: string;
  protocol?: string;
  /** For OwnTracks devices of one user: the first registered gets the short user name. */
  createdAt?: Date;
}

export interface SkippedDevice {
  id: string;
  reason: string;
}

/**
 * The ACL: the service user reads device telemetry and OwnTracks, reads and writes
 * the live topics and reads $SYS; every other user (a device, user name = device id, or
 * for an OwnTracks phone its user part) may write its own telemetry topic, or everything
 * under `owntracks/<user name>/`, and read nothing. What a phone sends there that is not a
 * location on its device's topic is quarantined with a reason: Mosquitto would drop a
 * denied publish silently. The same rules as deploy/mosquitto/acl (a unit test keeps them equal).
 */
export function aclFileText(serviceUser: string): string {
  return [
    '# Written by `tsx src/cli.ts mosquitto-auth` (Armada); rules as in deploy/mosquitto/acl.',
    '# Anything not granted here is denied.',
    '',
    `user ${serviceUser}`,
    'topic read fleet/v1/devices/+/telemetry',
    'topic read owntracks/#',
    'topic readwrite fleet/v1/live/#',
    'topic read $SYS/#',
    '',
    "# Devices: %u is the user name (the device id, or an OwnTracks phone's user part).",
    'pattern write fleet/v1/devices/%u/telemetry',
    'pattern write owntracks/%u/#',
    '',
  ].join('\n');
}

/** Why a device cannot have a line in a Mosquitto password file, or undefined when it can. */
function unusable(device: DeviceCredential, serviceUser: string): string | undefined {
  // Mosquitto splits a line at the first ':'; a newline would start another user.
  if (/[:\s]/.test(device.id)) return 'its id contains ":" or white space, which a Mosquitto password file cannot hold';
  if (/[+#]/.test(device.id)) return 'its id contains an MQTT wildcard';
  if (device.id === serviceUser) return 'its id is the service user name';
  // On the device listeners a device's client id is its user name: one named like the
  // service's clients (armada-ingest-<WORKER_ID>, armada-api-…) could take their sessions.
  if (/^armada($|-)/i.test(device.id)) return 'its id starts with "armada", reserved for the service\'s client ids';
  if (!/^\$7\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(device.secretHash))
    return 'its stored secret hash is not in Mosquitto $7$ format';
  return undefined;
}

/**
 * The devices' password file: one line per usable device, by user name. The service user
 * has no line here, so its password opens only the service listener. An OwnTracks device
 * `user/device` gets a second line under `user`, the name the app needs to publish on
 * `owntracks/user/device` with its defaults; when a user has several, the one registered
 * first (the embedded broker chooses the same), and never when another device's id is that name.
 */
export function passwordFileText(
  devices: readonly DeviceCredential[],
  serviceUser: string,
): { text: string; written: number; skipped: SkippedDevice[] } {
  const { entries, written, skipped } = passwordEntries(devices, serviceUser);
  // Mosquitto takes an empty password file (it then refuses every client on that listener).
  return { text: entries.map(([user, hash]) => `${user}:${hash}\n`).join(''), written, skipped };
}

/** The user names and stored hashes of the password file, by user name (the OwnTracks short names included). */
function passwordEntries(
  devices: readonly DeviceCredential[],
  serviceUser: string,
): { entries: Array<[user: string, hash: string]>; written: number; skipped: SkippedDevice[] } {
  const entries: Array<[user: string, hash: string]> = [];
  const skipped: SkippedDevice[] = [];
  const usable: DeviceCredential[] = [];
  for (const device of [...devices].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const reason = unusable(device, serviceUser);
    if (reason) skipped.push({ id: device.id, reason });
    else {
      usable.push(device);
      entries.push([device.id, device.secretHash]);
    }
  }
  const ids = new Set(devices.map((d) => d.id));
  const phones = usable
    .filter((d) => d.protocol === 'owntracks' && d.id.includes('/'))
    .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const taken = new Set<string>();
  for (const phone of phones) {
    const user = ownTracksUsername(phone.id);
    if (ids.has(user) || taken.has(user) || user === serviceUser || /^armada($|-)/i.test(user)) continue;
    taken.add(user);
    entries.push([user, phone.secretHash]);
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { entries, written: usable.length, skipped };
}

/**
 * The same users for EMQX's built-in database (deploy/emqx/emqx.conf, `bootstrap_type =
 * hash`): `user_id,password_hash,salt,is_superuser`, one row per user name of the Mosquitto
 * file. A device whose stored hash EMQX cannot take is left out with the reason.
 */
export function emqxUsersCsv(
  devices: readonly DeviceCredential[],
  serviceUser: string,
): { text: string; users: number; skipped: SkippedDevice[] } {
  const { entries, skipped } = passwordEntries(devices, serviceUser);
  const deviceOf = new Map(devices.map((d) => [d.secretHash, d.id]));
  const rows: string[] = [];
  const refused = new Map<string, string>();
  for (const [user, hash] of entries) {
    const credential = emqxCredential(hash);
    if ('reason' in credential) refused.set(deviceOf.get(hash) ?? user, credential.reason);
    else rows.push(`${user},${credential.passwordHash},${credential.salt},false`);
  }
  for (const [id, reason] of refused) skipped.push({ id, reason });
  return { text: ['user_id,password_hash,salt,is_superuser', ...rows, ''].join('\n'), users: rows.length, skipped };
}

/** The service listener's password file: the service user alone. */
export function servicePasswordFileText(service: { user: string; passwordHash: string }): string {
  return `${service.user}:${service.passwordHash}\n`;
}

/**
 * Replaces the file's content in place: opened without O_TRUNC, written from the
 * start, then truncated to the new length, so the inode (and a bind mount of it)
 * stays the same. A new file is created with `mode`.
 */
export function writeFileInPlace(path: string, text: string, mode = 0o644): { created: boolean } {
  let fd: number;
  let created = false;
  try {
    fd = openSync(path, constants.O_WRONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    created = true;
  }
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path} is not a regular file`);
    const bytes = Buffer.from(text, 'utf8');
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset, offset);
    // Through the same descriptor: a shorter content loses the old tail.
    ftruncateSync(fd, bytes.length);
  } finally {
    closeSync(fd);
  }
  return { created };
}

export interface MosquittoAuthResult {
  devices: number;
  skipped: SkippedDevice[];
  inactive: number;
}

/** Writes the devices' password file and the ACL from the devices table, and the service's password file when asked. */
export async function writeMosquittoAuthFiles(options: {
  devices: { listActiveCredentials(): Promise<DeviceCredential[]>; countInactive(): Promise<number> };
  passwdPath: string;
  aclPath: string;
  serviceUser: string;
  service?: { passwdPath: string; password: string };
}): Promise<MosquittoAuthResult> {
  const active = await options.devices.listActiveCredentials();
  const inactive = await options.devices.countInactive();
  const { text, written, skipped } = passwordFileText(active, options.serviceUser);
  writeFileInPlace(options.passwdPath, text);
  writeFileInPlace(options.aclPath, aclFileText(options.serviceUser));
  if (options.service) {
    const line = servicePasswordFileText({ user: options.serviceUser, passwordHash: hashDeviceSecret(options.service.password) });
    writeFileInPlace(options.service.passwdPath, line);
  }
  return { devices: written, skipped, inactive };
}
