/**
 * EMQX's device users (`tsx src/cli.ts emqx-users`, src/mosquitto/auth-files.ts): every
 * row is checked the way EMQX's built-in database checks a password (emqx_passwd: the
 * lowercase hex of PBKDF2(sha512, password, salt, 101, 64), the salt as the row's text),
 * with the device's real secret; the same secret still opens Mosquitto's `$7$` line; a
 * secret hashed with a binary salt (before salts were printable) is left out and named.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { emqxUsersCsv, passwordFileText } from '../../src/mosquitto/auth-files.js';
import { emqxCredential, generateDeviceSecret, hashDeviceSecret, verifyDeviceSecret } from '../../src/security/secrets.js';

/** What EMQX does with a CSV row and a CONNECT's password. */
function emqxAccepts(row: string, userName: string, password: string): boolean {
  const [user, passwordHash, salt, superuser] = row.split(',');
  if (user !== userName || superuser !== 'false') return false;
  return pbkdf2Sync(password, Buffer.from(salt!, 'latin1'), 101, 64, 'sha512').toString('hex') === passwordHash;
}

describe('EMQX device users', () => {
  const secrets = new Map([
    ['dh-1001', generateDeviceSecret()],
    ['budi/phone', generateDeviceSecret()],
  ]);
  const devices = [
    { id: 'dh-1001', secretHash: hashDeviceSecret(secrets.get('dh-1001')!), protocol: 'armada' },
    { id: 'budi/phone', secretHash: hashDeviceSecret(secrets.get('budi/phone')!), protocol: 'owntracks', createdAt: new Date(0) },
    // Hashed as before printable salts: Mosquitto takes it, EMQX's CSV cannot carry its salt.
    { id: 'dh-old', secretHash: hashDeviceSecret('old-secret', randomBytes(12)), protocol: 'armada' },
  ];

  it('writes a row EMQX accepts with the device secret, for every user Mosquitto gets, and names what it leaves out', () => {
    const { text, users, skipped } = emqxUsersCsv(devices, 'armada');
    const [header, ...rows] = text.trimEnd().split('\n');
    expect(header).toBe('user_id,password_hash,salt,is_superuser');
    // The same user names as Mosquitto's file (the phone also under its short name), but the old one.
    const mosquittoUsers = passwordFileText(devices, 'armada')
      .text.trimEnd()
      .split('\n')
      .map((l) => l.split(':')[0]);
    expect(mosquittoUsers).toEqual(['budi', 'budi/phone', 'dh-1001', 'dh-old']);
    expect(rows.map((r) => r.split(',')[0])).toEqual(['budi', 'budi/phone', 'dh-1001']);
    expect(users).toBe(3);
    expect(emqxAccepts(rows[2]!, 'dh-1001', secrets.get('dh-1001')!)).toBe(true);
    expect(emqxAccepts(rows[2]!, 'dh-1001', secrets.get('budi/phone')!)).toBe(false);
    expect(emqxAccepts(rows[0]!, 'budi', secrets.get('budi/phone')!)).toBe(true);
    expect(emqxAccepts(rows[1]!, 'budi/phone', secrets.get('budi/phone')!)).toBe(true);
    expect(skipped).toEqual([{ id: 'dh-old', reason: expect.stringMatching(/rotate/) }]);
  });

  it('keeps the secret valid for Mosquitto and the embedded broker, with a salt of 12 printable characters, the length Mosquitto requires', () => {
    for (let i = 0; i < 200; i++) {
      const secret = generateDeviceSecret();
      const stored = hashDeviceSecret(secret);
      expect(verifyDeviceSecret(secret, stored)).toBe(true);
      const credential = emqxCredential(stored);
      expect(credential).toMatchObject({ salt: expect.stringMatching(/^[A-Za-z0-9_-]{12}$/) });
      // Mosquitto refuses a $7$ line whose salt does not decode to exactly 12 bytes.
      expect(Buffer.from(stored.split('$')[3]!, 'base64')).toHaveLength(12);
    }
  });

  it('refuses hashes EMQX is not set for', () => {
    expect(emqxCredential('plain')).toMatchObject({ reason: expect.stringMatching(/\$7\$/) });
    expect(emqxCredential(hashDeviceSecret('x').replace('$7$101$', '$7$1000$'))).toMatchObject({
      reason: expect.stringMatching(/1000 iterations/),
    });
  });
});
