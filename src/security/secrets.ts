/**
 * API keys and device secrets: generated here, stored only as hashes.
 *
 * API keys are 256-bit random tokens, hashed with SHA-256 for lookup: with that much
 * entropy a slow hash adds nothing, and every request can be authenticated by one
 * indexed query. Device secrets are hashed in Mosquitto's own PBKDF2-SHA512 format
 * (`$7$iterations$salt$hash`), so the same stored hash authenticates a device on the
 * embedded broker and can be written into a Mosquitto password file.
 */
import { createHash, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

const API_KEY_PREFIX = 'arm_';

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** What a listing shows of a key: enough to tell keys apart, useless to an attacker. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, 8);
}

export function generateDeviceSecret(): string {
  return randomBytes(24).toString('base64url');
}

const MOSQUITTO_ITERATIONS = 101;
const MOSQUITTO_SALT_BYTES = 12;
const MOSQUITTO_HASH_BYTES = 64;

/**
 * A salt of printable bytes: 9 random bytes written as 12 base64url characters, and those
 * characters are the salt (72 random bits). Mosquitto takes any 12 bytes (and only 12);
 * EMQX's user import carries the salt as text, so only a printable one can go there too
 * (emqxCredential below).
 */
const printableSalt = () => Buffer.from(randomBytes((MOSQUITTO_SALT_BYTES * 3) / 4).toString('base64url'), 'ascii');

export function hashDeviceSecret(secret: string, salt: Buffer = printableSalt()): string {
  const hash = pbkdf2Sync(secret, salt, MOSQUITTO_ITERATIONS, MOSQUITTO_HASH_BYTES, 'sha512');
  return `$7$${MOSQUITTO_ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyDeviceSecret(secret: string, stored: string): boolean {
  const parts = stored.split('$');
  // ['', '7', iterations, salt, hash]
  if (parts.length !== 5 || parts[1] !== '7') return false;
  const iterations = Number.parseInt(parts[2]!, 10);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 1_000_000) return false;
  const salt = Buffer.from(parts[3]!, 'base64');
  const expected = Buffer.from(parts[4]!, 'base64');
  if (expected.length === 0) return false;
  const actual = pbkdf2Sync(secret, salt, iterations, expected.length, 'sha512');
  return timingSafeEqual(actual, expected);
}

/** The iterations deploy/emqx/emqx.conf sets for devices (EMQX takes one setting for all users). */
const EMQX_DEVICE_ITERATIONS = MOSQUITTO_ITERATIONS;

/**
 * A stored `$7$` hash as EMQX's built-in database holds it: PBKDF2-SHA512, the derived key
 * as lowercase hex, the salt as text (EMQX compares hex(pbkdf2(sha512, secret, salt,
 * iterations, 64)) with the stored hash). Answers why not when the hash cannot go there:
 * a salt that is not printable (secrets set before salts were), or other iterations.
 */
export function emqxCredential(stored: string): { passwordHash: string; salt: string } | { reason: string } {
  const parts = stored.split('$');
  if (parts.length !== 5 || parts[1] !== '7') return { reason: 'its stored secret hash is not in Mosquitto $7$ format' };
  if (Number(parts[2]) !== EMQX_DEVICE_ITERATIONS) {
    return { reason: `its secret was hashed with ${parts[2]} iterations; EMQX is set for ${EMQX_DEVICE_ITERATIONS}` };
  }
  const salt = Buffer.from(parts[3]!, 'base64').toString('latin1');
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(salt)) {
    return { reason: 'its secret was set before salts were printable: rotate it (POST /api/v1/devices/{id}/rotate-secret) to export it' };
  }
  const hash = Buffer.from(parts[4]!, 'base64');
  if (hash.length !== MOSQUITTO_HASH_BYTES)
    return { reason: `its derived key is ${hash.length} bytes; EMQX is set for ${MOSQUITTO_HASH_BYTES}` };
  return { passwordHash: hash.toString('hex'), salt };
}
