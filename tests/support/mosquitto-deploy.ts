/**
 * deploy/mosquitto/mosquitto.conf outside the container, for tests that run it in the
 * real Mosquitto binary: each listener moves to a free 127.0.0.1 port and every
 * container path (/mosquitto/config, /mosquitto/certs, /mosquitto/data) to a temporary
 * folder; nothing else changes. A listener the test does not know, or one it expects
 * and does not find, fails the test, so a changed config is never half-tested.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEPLOY_CONF_FILE = fileURLToPath(new URL('../../deploy/mosquitto/mosquitto.conf', import.meta.url));

/** The container ports of the shipped listeners. */
export const LISTENERS = { devices: 1883, devicesTls: 8883, service: 1884 } as const;
export type ListenerName = keyof typeof LISTENERS;
export type ListenerPorts = Record<ListenerName, number>;

/** The config text with the listeners on `ports` and the container paths under `dir`. */
export function rewriteDeployConfig(conf: string, dir: string, ports: ListenerPorts): string {
  const byContainerPort = new Map<number, ListenerName>(Object.entries(LISTENERS).map(([name, p]) => [p, name as ListenerName]));
  const seen = new Set<ListenerName>();
  const lines = conf.split('\n').map((line) => {
    const listener = /^\s*listener\s+(\d+)\s*$/.exec(line);
    if (listener) {
      const name = byContainerPort.get(Number(listener[1]));
      if (!name) throw new Error(`mosquitto.conf has a listener on ${listener[1]} that the tests do not know`);
      if (seen.has(name)) throw new Error(`mosquitto.conf declares the listener ${listener[1]} twice`);
      seen.add(name);
      return `listener ${ports[name]} 127.0.0.1`;
    }
    if (/^\s*#/.test(line)) return line;
    return line
      .replace(/\/mosquitto\/config\//g, `${dir}/`)
      .replace(/\/mosquitto\/certs\//g, `${join(dir, 'certs')}/`)
      .replace(/\/mosquitto\/data\//g, `${join(dir, 'data')}/`);
  });
  const missing = (Object.keys(LISTENERS) as ListenerName[]).filter((n) => !seen.has(n));
  if (missing.length > 0) throw new Error(`mosquitto.conf has no listener for ${missing.join(', ')}`);
  const text = lines.join('\n');
  const left = /\/mosquitto\/[^\s]*/.exec(
    text
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n'),
  );
  if (left) throw new Error(`mosquitto.conf names ${left[0]}, which the tests do not map`);
  return text;
}

/**
 * A self-signed certificate for 127.0.0.1 and localhost (made now, valid two days) at
 * certs/server.crt and certs/server.key, where the rewritten config looks. Returns the
 * certificate, which a client passes as its trusted CA.
 */
export function writeTestCertificate(dir: string): Buffer {
  const certs = join(dir, 'certs');
  mkdirSync(certs, { recursive: true });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      join(certs, 'server.key'),
      '-out',
      join(certs, 'server.crt'),
    ],
    { stdio: 'ignore' },
  );
  // Started as root, Mosquitto drops to the `mosquitto` user before it reads them.
  chmodSync(certs, 0o755);
  for (const f of ['server.key', 'server.crt']) chmodSync(join(certs, f), 0o644);
  return readFileSync(join(certs, 'server.crt'));
}

/** Writes the rewritten deploy config to `dir`/mosquitto.conf (and creates `dir`/data); returns its path. */
export function writeDeployConfig(dir: string, ports: ListenerPorts): string {
  const path = join(dir, 'mosquitto.conf');
  writeFileSync(path, rewriteDeployConfig(readFileSync(DEPLOY_CONF_FILE, 'utf8'), dir, ports));
  mkdirSync(join(dir, 'data'), { recursive: true });
  // Started as root, Mosquitto drops to the `mosquitto` user before it reads the files
  // and writes persistence (as uid 1883 does in the image).
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'data'), 0o777);
  chmodSync(path, 0o644);
  return path;
}
