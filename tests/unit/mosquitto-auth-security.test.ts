/** The Mosquitto password and ACL file writer (src/mosquitto/auth-files.ts) and its command line. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { aclFileText, passwordFileText, servicePasswordFileText, writeFileInPlace } from '../../src/mosquitto/auth-files.js';
import { MosquittoAuthUsageError, parseMosquittoAuthArgs } from '../../src/mosquitto/command.js';
import { hashDeviceSecret, verifyDeviceSecret } from '../../src/security/secrets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const rules = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

const dir = mkdtempSync(join(tmpdir(), 'armada-mosquitto-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('aclFileText', () => {
  it('has the rules of deploy/mosquitto/acl', () => {
    expect(rules(aclFileText('armada'))).toEqual(rules(readFileSync(join(ROOT, 'deploy/mosquitto/acl'), 'utf8')));
  });

  it('names the given service user', () => {
    expect(rules(aclFileText('fleet-svc'))[0]).toBe('user fleet-svc');
  });
});

describe('passwordFileText', () => {
  const hash = hashDeviceSecret('s3cret');
  it('writes each usable device by id, and no service user', () => {
    const { text, written, skipped } = passwordFileText(
      [
        { id: 'dev-2', secretHash: hash },
        { id: 'alice/phone', secretHash: hash },
        { id: 'dev-1', secretHash: hash },
        { id: 'a:b', secretHash: hash },
        { id: 'armada', secretHash: hash },
        { id: 'dev-3', secretHash: 'plain-text' },
      ],
      'armada',
    );
    const lines = text.trimEnd().split('\n');
    expect(lines.map((l) => l.slice(0, l.indexOf(':')))).toEqual(['alice/phone', 'dev-1', 'dev-2']);
    expect(lines.every((l) => l.endsWith(`:${hash}`))).toBe(true);
    expect(written).toBe(3);
    expect(skipped.map((s) => s.id)).toEqual(['a:b', 'armada', 'dev-3']);
    expect(text.endsWith('\n')).toBe(true);
  });

  it("leaves out a device named like the service's client ids, which on a device listener would be its client id", () => {
    const { text, skipped } = passwordFileText(
      ['armada-ingest-1', 'armada-api-0a1b2c3d', 'ARMADA-x', 'armadillo-1'].map((id) => ({ id, secretHash: hash })),
      'fleet-svc',
    );
    expect(skipped.map((s) => s.id)).toEqual(['ARMADA-x', 'armada-api-0a1b2c3d', 'armada-ingest-1']);
    expect(skipped[0]!.reason).toMatch(/reserved/);
    expect(text).toBe(`armadillo-1:${hash}\n`);
  });

  it('is empty without devices', () => {
    expect(passwordFileText([], 'armada')).toEqual({ text: '', written: 0, skipped: [] });
  });
});

describe('servicePasswordFileText', () => {
  it('holds the service user alone, with its password hashed', () => {
    const text = servicePasswordFileText({ user: 'armada', passwordHash: hashDeviceSecret('service-password') });
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(verifyDeviceSecret('service-password', lines[0]!.slice('armada:'.length))).toBe(true);
  });
});

describe('passwordFileText for OwnTracks phones', () => {
  const hashes = { first: hashDeviceSecret('first'), second: hashDeviceSecret('second'), other: hashDeviceSecret('other') };
  const users = (text: string) =>
    text
      .trimEnd()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]);

  it('adds the user part as a second name, the one the app publishes under (owntracks/%u/%d)', () => {
    const phone = { id: 'budi/phone', secretHash: hashes.first, protocol: 'owntracks', createdAt: new Date(1) };
    const { text, written } = passwordFileText([phone], 'armada');
    expect(users(text)).toEqual([
      ['budi', hashes.first],
      ['budi/phone', hashes.first],
    ]);
    expect(written).toBe(1);
  });

  it("gives a user part shared by several phones to the one registered first, and none that is another device's id", () => {
    const { text } = passwordFileText(
      [
        { id: 'budi/tablet', secretHash: hashes.second, protocol: 'owntracks', createdAt: new Date(2000) },
        { id: 'budi/phone', secretHash: hashes.first, protocol: 'owntracks', createdAt: new Date(1000) },
        { id: 'sari/hp', secretHash: hashes.other, protocol: 'owntracks', createdAt: new Date(0) },
        { id: 'sari', secretHash: hashes.second, protocol: 'armada', createdAt: new Date(0) },
      ],
      'armada',
    );
    expect(users(text)).toEqual([
      ['budi', hashes.first],
      ['budi/phone', hashes.first],
      ['budi/tablet', hashes.second],
      ['sari', hashes.second],
      ['sari/hp', hashes.other],
    ]);
  });
});

describe('writeFileInPlace', () => {
  it('creates a file, then rewrites it on the same inode, shorter content included', () => {
    const path = join(dir, 'passwd');
    expect(writeFileInPlace(path, 'a-long-first-content\nline two\n')).toEqual({ created: true });
    const inode = statSync(path).ino;
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(writeFileInPlace(path, 'short\n')).toEqual({ created: false });
    expect(readFileSync(path, 'utf8')).toBe('short\n');
    expect(statSync(path).ino).toBe(inode);
  });

  it('keeps the mode of an existing file', () => {
    const path = join(dir, 'acl');
    writeFileSync(path, 'old', { mode: 0o600 });
    writeFileInPlace(path, 'new');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe('new');
  });
});

describe('parseMosquittoAuthArgs', () => {
  const env = { MQTT_ARMADA_PASSWORD: 'pw', OTHER: 'pw2' };
  it('takes the files, and the service user and its password variable with defaults', () => {
    expect(parseMosquittoAuthArgs(['--passwd', 'p', '--acl', 'a'], env)).toEqual({
      passwdPath: 'p',
      aclPath: 'a',
      serviceUser: 'armada',
      passwordVariable: 'MQTT_ARMADA_PASSWORD',
      service: undefined,
    });
    expect(parseMosquittoAuthArgs(['--passwd', 'p', '--acl', 'a', '--service-passwd', 's'], env)).toMatchObject({
      service: { passwdPath: 's', password: 'pw' },
    });
    const other = ['--passwd', 'p', '--acl', 'a', '--service-passwd', 's', '--service-user', 'svc', '--service-password-env', 'OTHER'];
    expect(parseMosquittoAuthArgs(other, env)).toMatchObject({ serviceUser: 'svc', service: { password: 'pw2' } });
  });

  it('refuses a missing file, an unknown option and an unset password variable, naming them', () => {
    expect(() => parseMosquittoAuthArgs(['--passwd', 'p'], env)).toThrow(/--acl are required/);
    expect(() => parseMosquittoAuthArgs(['--passwd', 'p', '--acl', 'a', '--nope'], env)).toThrow(MosquittoAuthUsageError);
    // The password is needed only to write the service's file.
    expect(parseMosquittoAuthArgs(['--passwd', 'p', '--acl', 'a'], {}).service).toBeUndefined();
    const withServiceFile = ['--passwd', 'p', '--acl', 'a', '--service-passwd', 's'];
    expect(() => parseMosquittoAuthArgs(withServiceFile, {})).toThrow(/MQTT_ARMADA_PASSWORD is not set/);
    expect(() => parseMosquittoAuthArgs(['--passwd', 'p', '--acl', 'a', '--service-user', 'a b'], env)).toThrow(/not a usable user name/);
  });
});
