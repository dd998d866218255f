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
 */
import { fsyncSync } from 'node:fs';
import type { PGliteOptions } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

type NodeFsInit = NodeFS['init'];
type EmscriptenModule = { NODEFS?: { stream_ops?: { fsync?: (stream: { nfd?: number }) => number } } };

/** How many flushes reached the disk (for the test that checks the flushes are real). */
export const durableFsStats = { fsyncs: 0 };

export class DurableNodeFS extends NodeFS {
  override async init(...args: Parameters<NodeFsInit>): ReturnType<NodeFsInit> {
    const result = await super.init(...args);
    const opts = result.emscriptenOpts as { preRun?: Array<(mod: EmscriptenModule) => void> };
    // Before NodeFS's own preRun mounts the directory, so every file opened gets it.
    opts.preRun = [
      (mod) => {
        const ops = mod.NODEFS?.stream_ops;
        if (!ops) throw new Error('PGlite changed: NODEFS.stream_ops is gone, so the data directory could not be made durable');
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
