/**
 * The lock on PGlite's data directory tells a live Armada from a record a dead one left:
 * its own PID (a container's PID 1 restarted), a killed holder still a zombie, a PID an
 * unrelated process has now. And `armada start` in a PID namespace of its own, as in a
 * container where Node is PID 1, comes back after a SIGKILL without anyone deleting a file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirLockedError } from '../../src/db/data-dir-lock.js';
import { freePort, projectRoot } from '../support/process.js';
import { waitFor } from '../support/service.js';

const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'armada-lock-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A child process, killed when the file ends, whose output is kept. */
type Started = { child: ChildProcess; output(): string; exited: Promise<unknown> };
function start(command: string, args: string[], env: Record<string, string> = {}): Started {
  const childEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
  const child = spawn(command, args, { cwd: projectRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  cleanups.push(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  return { child, output: () => out, exited };
}

/** The state letter in /proc/<pid>/stat (R, S, Z…), or null for no such process. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
  } catch {
    return null;
  }
}

const lockOf = async (dir: string) => acquireDataDirLock(dir);
const holdArgs = (dir: string) => ['--import', 'tsx', 'tests/support/hold-data-dir.ts', dir];

describe('the data directory lock', () => {
  it('refuses while a holder lives, naming its pid, and takes over its own PID in the record', async () => {
    const dir = tempDir();
    const holder = start(process.execPath, holdArgs(dir));
    const pid = Number((await waitFor(async () => /held (\d+)/.exec(holder.output()), 'the holder')).at(1));
    const refused = await lockOf(dir).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect((refused as Error).message).toContain(`in use by another Armada process (pid ${pid})`);
    holder.child.kill('SIGKILL');
    await holder.exited;

    // What a restarted container finds: a record with the PID it has itself.
    writeFileSync(join(dir, 'armada.lock'), String(process.pid));
    const lock = await lockOf(dir);
    await expect(lockOf(dir)).rejects.toThrow(/in use by this process/);
    lock.release();
    expect(existsSync(join(dir, 'armada.lock'))).toBe(false);
  });

  it('takes over from a killed holder that is still a zombie, and from a PID an unrelated process has now', async () => {
    const dir = tempDir();
    // The holder's parent is `sleep`, which never reaps it: killed, it stays a zombie.
    const parent = start('sh', ['-c', `"${process.execPath}" "$@" & echo "child $!"; exec sleep 120`, 'sh', ...holdArgs(dir)]);
    const pid = Number((await waitFor(async () => /held (\d+)/.exec(parent.output()), 'the holder')).at(1));
    await expect(lockOf(dir)).rejects.toBeInstanceOf(DataDirLockedError);
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => procState(pid) === 'Z', 'the killed holder to be a zombie');
    // A zombie answers kill(pid, 0) as a live process does.
    expect(() => process.kill(pid, 0)).not.toThrow();
    // Its threads may still be closing its files for a moment; then it holds nothing, zombie or not.
    const lock = await waitFor(() => lockOf(dir), 'the lock of a zombie');
    expect(procState(pid)).toBe('Z');
    lock.release();

    // The record names a live process that is not Armada (the `sleep`).
    expect(procState(parent.child.pid!)).not.toBeNull();
    writeFileSync(join(dir, 'armada.lock'), String(parent.child.pid));
    const again = await lockOf(dir);
    again.release();
  });
});

describe('a data directory whose path is too long for a Unix socket', () => {
  it('is held through a socket in the temporary directory, and taken over when its holder dies', async () => {
    const dir = join(tempDir(), 'a-rather-long-directory-name-for-the-fleet-data'.repeat(3));
    const holder = start(process.execPath, holdArgs(dir));
    await waitFor(async () => /held (\d+)/.exec(holder.output()), 'the holder');
    await expect(lockOf(dir)).rejects.toBeInstanceOf(DataDirLockedError);
    holder.child.kill('SIGKILL');
    await holder.exited;
    const lock = await lockOf(dir);
    lock.release();
  });
});

const unshareWorks = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

describe.skipIf(!unshareWorks)('armada start as PID 1 of its own PID namespace (as in a container)', () => {
  it('comes back after a SIGKILL, with the data it had', async () => {
    const dataDir = tempDir();
    const adminKey = 'lock-test-admin-key-0123456789abcdef';
    const startInNamespace = async () => {
      const httpPort = await freePort();
      const mqttPort = await freePort();
      const ports = { HTTP_PORT: String(httpPort), MQTT_PORT: String(mqttPort) };
      const env = { DATA_DIR: dataDir, ...ports, ADMIN_API_KEY: adminKey, LOG_LEVEL: 'warn' };
      const p = start('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, '--import', 'tsx', 'src/cli.ts', 'start'], env);
      const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
      const api = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${httpPort}${path}`, { ...init, headers });
      await Promise.race([
        waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200, 'the service to be ready', 60_000),
        p.exited.then(() => {
          throw new Error(`armada start exited:\n${p.output()}`);
        }),
      ]);
      return { ...p, api };
    };

    const recordedPid = () => {
      const text = readFileSync(join(dataDir, 'armada.lock'), 'utf8');
      return Number(text.trim().startsWith('{') ? (JSON.parse(text) as { pid: number }).pid : text);
    };
    const first = await startInNamespace();
    expect(recordedPid()).toBe(1);
    const dep = await first.api('/api/v1/departments', { method: 'POST', body: JSON.stringify({ code: 'LOCK', name: 'Dinas Lock' }) });
    expect(dep.status).toBe(201);
    // Node is `unshare`'s only child, PID 1 inside; killing it ends the namespace as `docker kill` does.
    const pid1 = (p: { child: ChildProcess }) => Number(readFileSync(`/proc/${p.child.pid}/task/${p.child.pid}/children`, 'utf8').trim());
    process.kill(pid1(first), 'SIGKILL');
    await first.exited;
    expect(recordedPid()).toBe(1);

    const second = await startInNamespace();
    const departments = (await (await second.api('/api/v1/departments')).json()) as Array<{ code: string }>;
    expect(departments.map((d) => d.code)).toContain('LOCK');
    process.kill(pid1(second), 'SIGTERM');
    await second.exited;
  }, 150_000);
});
