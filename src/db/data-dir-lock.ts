/**
 * PGlite has no lock of its own: a second process opening the same data directory
 * loses writes or spins. This lock makes the second process stop with a message instead.
 *
 * The holder listens on a Unix socket in the data directory (`armada.lock.sock`), and
 * `armada.lock` says who it is. A process is holding the directory exactly when something
 * accepts a connection on that socket: the kernel closes a process's sockets the moment it
 * dies, before it lingers as a zombie, so a lock left by a killed process is taken over at
 * once. A recorded PID proves nothing: in a container Node runs as PID 1 and its restart is
 * PID 1 again, and a dead holder's PID may belong to an unrelated process by now. The
 * socket works across containers that share the volume on one host (one kernel).
 */
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { connect, createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number | null,
    holder = pid === null ? 'another Armada process' : `another Armada process (pid ${pid})`,
  ) {
    super(
      `The data directory ${dataDir} is in use by ${holder}. ` +
        'Stop that process, or set DATA_DIR to another directory, or set DATABASE_URL to use PostgreSQL.',
    );
    this.name = 'DataDirLockedError';
  }
}

/** Data directories this process holds: a second opener here is refused without asking the socket. */
const heldHere = new Set<string>();

/** Unix socket paths are limited to ~107 bytes. */
const MAX_SOCKET_PATH = 100;
/** A takeover in progress that is older than this was left by a process that died in it. */
const TAKEOVER_STALE_MS = 10_000;

/**
 * Where the holder may listen: in the data directory, or, when that path is too long or its
 * file system takes no sockets (some bind mounts from another OS), in the temporary
 * directory under a name made from the data directory. A starter asks both.
 */
function socketPathsFor(dir: string): string[] {
  const inDir = join(dir, 'armada.lock.sock');
  const inTmp = join(tmpdir(), `armada-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}.sock`);
  return Buffer.byteLength(inDir) <= MAX_SOCKET_PATH ? [inDir, inTmp] : [inTmp];
}

async function anyoneListens(paths: readonly string[]): Promise<boolean> {
  for (const path of paths) if (await someoneListens(path)) return true;
  return false;
}

/** True when a process accepts connections on the socket (one that is stopped still counts: the kernel accepts for it). */
function someoneListens(socketPath: string): Promise<boolean> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(socketPath);
    const done = (answer: boolean | Error) => {
      socket.destroy();
      if (answer instanceof Error) reject(answer);
      else resolvePromise(answer);
    };
    socket.setTimeout(5000, () => done(true));
    socket.once('connect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      // Nobody listens on a socket file left behind (ECONNREFUSED), or there is none (a file
      // system without sockets answers ENOTSOCK or ENXIO for a file that is not one).
      if (['ECONNREFUSED', 'ENOENT', 'ENOTSOCK', 'ENXIO'].includes(err.code ?? '')) done(false);
      else done(new Error(`Could not check the lock socket ${socketPath}: ${err.message}`));
    });
  });
}

function listen(socketPath: string): Promise<Server | 'in-use'> {
  return new Promise((resolvePromise, reject) => {
    // Nothing is said on the socket: connecting is the whole question.
    const server = createServer((socket) => socket.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolvePromise('in-use') : reject(err)));
    server.listen(socketPath, () => {
      // It must not keep the process alive, nor hold up its exit.
      server.unref();
      resolvePromise(server);
    });
  });
}

function recordedPid(recordPath: string): number | null {
  try {
    const text = readFileSync(recordPath, 'utf8').trim();
    const pid = Number.parseInt(text.startsWith('{') ? String((JSON.parse(text) as { pid?: unknown }).pid) : text, 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** A short exclusive section for the takeover of a stale socket, so two starters cannot both take it. */
function enterTakeover(dir: string): (() => void) | null {
  const path = join(dir, 'armada.lock.takeover');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let ageMs: number;
      try {
        ageMs = Date.now() - statSync(path).mtimeMs;
      } catch {
        continue;
      }
      if (ageMs < TAKEOVER_STALE_MS) return null;
      rmSync(path, { force: true });
    }
  }
  return null;
}

export async function acquireDataDirLock(dataDir: string): Promise<DataDirLock> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The fleet's data and the lock are its owner's alone (an existing directory may be older than this).
  const mode = statSync(dir).mode & 0o7777;
  if (mode & 0o077) chmodSync(dir, mode & ~0o077);
  const recordPath = join(dir, 'armada.lock');
  const socketPaths = socketPathsFor(dir);
  if (heldHere.has(dir)) throw new DataDirLockedError(dir, process.pid, `this process (pid ${process.pid})`);
  if (await anyoneListens(socketPaths)) throw new DataDirLockedError(dir, recordedPid(recordPath));

  const leave = enterTakeover(dir);
  // Another process is taking the directory over this very moment.
  if (!leave) throw new DataDirLockedError(dir, recordedPid(recordPath));
  let server: Server | 'in-use' | undefined;
  let socketPath = socketPaths[0]!;
  try {
    // Asked again inside the section: a starter that got here first holds it now.
    if (await anyoneListens(socketPaths)) throw new DataDirLockedError(dir, recordedPid(recordPath));
    for (const [i, path] of socketPaths.entries()) {
      socketPath = path;
      // The socket file of a holder that died; listening needs the path free.
      rmSync(path, { force: true });
      try {
        server = await listen(path);
        break;
      } catch (err) {
        if (i === socketPaths.length - 1) throw err;
      }
    }
    if (server === 'in-use' || !server) throw new DataDirLockedError(dir, recordedPid(recordPath));
    chmodSync(socketPath, 0o600);
    const record = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    writeFileSync(recordPath, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  } finally {
    leave();
  }
  const listening = server;
  const heldPath = socketPath;
  heldHere.add(dir);

  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    heldHere.delete(dir);
    listening.close();
    // Only what is still ours: a record another process wrote after taking over stays.
    if (recordedPid(recordPath) === process.pid) rmSync(recordPath, { force: true });
    rmSync(heldPath, { force: true });
  };
  // A normal exit must not leave the files behind even if close() was skipped (a kill
  // leaves them, and the next start takes them over).
  process.once('exit', release);
  return { path: recordPath, release };
}
