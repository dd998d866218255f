/**
 * CPU time of the processes behind a benchmark phase, read from /proc (Linux): on a
 * small shared machine the rates swing with whatever else runs, but the CPU each
 * component spends per message moves much less, and says where the time goes.
 * Elsewhere the figures are simply absent.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Database } from '../src/db/client.js';

let ticksPerS: number | undefined;
function clockTicks(): number {
  if (ticksPerS === undefined) {
    try {
      ticksPerS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerS = 100;
    }
  }
  return ticksPerS;
}

/** User plus system CPU of a process so far, in ms; undefined when it cannot be read. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return ((utime + stime) * 1000) / clockTicks();
  } catch {
    return undefined;
  }
}

/**
 * The server processes serving one database's connections, watched while a phase runs:
 * each backend's CPU over its life, kept after it exits. Only backends on this machine
 * can be read (a remote PostgreSQL gives undefined).
 */
export class BackendCpuWatch {
  private readonly latest = new Map<number, number>();
  /** What the backends already open at the start had spent (the bench's own seeding). */
  private readonly before = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private readable = true;

  private constructor(
    private readonly database: Pick<Database, 'query'>,
    private readonly databaseName: string,
  ) {}

  static async start(database: Pick<Database, 'query'>, databaseName: string, everyMs = 100): Promise<BackendCpuWatch> {
    const watch = new BackendCpuWatch(database, databaseName);
    await watch.sample();
    for (const [pid, ms] of watch.latest) watch.before.set(pid, ms);
    watch.timer = setInterval(() => void watch.sample(), everyMs);
    return watch;
  }

  private async sample(): Promise<void> {
    const rows = await this.database
      .query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        [this.databaseName],
      )
      .catch(() => []);
    for (const { pid } of rows) {
      const ms = processCpuMs(pid);
      if (ms === undefined) this.readable = false;
      else this.latest.set(pid, ms);
    }
  }

  async stop(): Promise<number | undefined> {
    clearInterval(this.timer);
    await this.sample();
    if (!this.readable || this.latest.size === 0) return undefined;
    let total = 0;
    for (const [pid, ms] of this.latest) total += ms - (this.before.get(pid) ?? 0);
    return total;
  }
}
