/**
 * PGlite's Node filesystem (Emscripten's NODEFS) writes through to real files but makes
 * every flush a no-op: NODEFS has no `fsync`, and `fdatasync` is a stub. PGlite also starts
 * PostgreSQL with `-F` (fsync off). So a commit it acknowledges sits in the operating
 * system's page cache, which a process crash keeps and a power cut loses.
 *
 * This filesystem gives NODEFS a real `fsync` (fs.fsyncSync on the file's descriptor), and
 * durablePgliteOptions() starts PostgreSQL with fsync on and `wal_sync_method = fsync`
 * (fdatasync stays a stub in the WASM build), so a commit returns after its WAL is on disk,
 * and checkpoints flush the data files before the WAL they replace is recycled.
 *
 * It also keeps the data directory private to its owner (0700 directories, 0600 files).
 */
import { chmodSync, fsyncSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PGliteOptions } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

type NodeFsInit = NodeFS['init'];
type Attr = { mode?: number | null };
type NodeOps = {
  mknod?: (parent: unknown, name: string, mode: number, dev: number) => unknown;
  setattr?: (node: unknown, attr: Attr) => void;
};
type StreamOps = { fsync?: (stream: { nfd?: number }) => number; setattr?: (stream: unknown, attr: Attr) => void };
type EmscriptenModule = { NODEFS?: { node_ops?: NodeOps; stream_ops?: StreamOps } };

/** No permission for group and others: the data is the fleet's, readable by its owner only. */
const PRIVATE = ~0o077;

/** Takes group and other permissions off what is already there (a directory made before this was done). */
function makePrivate(path: string): void {
  const st = statSync(path);
  if (st.mode & 0o077) chmodSync(path, st.mode & 0o7777 & PRIVATE);
  if (st.isDirectory()) for (const name of readdirSync(path)) makePrivate(join(path, name));
}

/** How many flushes reached the disk (for the test that checks the flushes are real). */
export const durableFsStats = { fsyncs: 0 };

export class DurableNodeFS extends NodeFS {
  override async init(...args: Parameters<NodeFsInit>): ReturnType<NodeFsInit> {
    const result = await super.init(...args);
    const opts = result.emscriptenOpts as { preRun?: Array<(mod: EmscriptenModule) => void> };
    makePrivate(this.rootDir);
    // Before NodeFS's own preRun mounts the directory, so every file opened gets it.
    opts.preRun = [
      (mod) => {
        const ops = mod.NODEFS?.stream_ops;
        const nodeOps = mod.NODEFS?.node_ops;
        if (!ops?.setattr || !nodeOps?.mknod || !nodeOps.setattr) {
          throw new Error('PGlite changed: NODEFS.stream_ops or node_ops is gone, so the data directory cannot be made durable');
        }
        // PGlite creates its files 0666 and its directories 0777, whatever the umask.
        const mknod = nodeOps.mknod.bind(nodeOps);
        nodeOps.mknod = (parent, name, mode, dev) => mknod(parent, name, mode & PRIVATE, dev);
        const setattr = nodeOps.setattr.bind(nodeOps);
        nodeOps.setattr = (node, attr) => setattr(node, attr.mode == null ? attr : { ...attr, mode: attr.mode & PRIVATE });
        const streamSetattr = ops.setattr.bind(ops);
        ops.setattr = (stream, attr) => streamSetattr(stream, attr.mode == null ? attr : { ...attr, mode: attr.mode & PRIVATE });
        ops.fsync = (stream) => {
          if (stream.nfd !== undefined) {
            fsyncSync(stream.nfd);
            durableFsStats.fsyncs++;
          }
          return 0;
        };
      },
      ...(opts.preRun ?? []),
    ];
    return result;
  }
}

/** PGlite's own start parameters, without `-F`, with the WAL flushed through fsync. */
export function durableStartParams(defaults: readonly string[]): string[] {
  const params = defaults.filter((p) => p !== '-F');
  return [...params, '-c', 'fsync=on', '-c', 'wal_sync_method=fsync', '-c', 'synchronous_commit=on'];
}

export function durablePgliteOptions(dataDir: string, defaults: readonly string[]): PGliteOptions {
  return { fs: new DurableNodeFS(dataDir), startParams: durableStartParams(defaults) };
}
