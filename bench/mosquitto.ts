/**
 * A private Mosquitto for the benchmark, on a free 127.0.0.1 port, with its own small
 * config in a temporary folder. It copies from deploy/mosquitto/mosquitto.conf the two
 * settings that decide throughput (the in-flight window per client and the queue
 * length) and leaves out what would only get in the way of a benchmark: password
 * file and ACL (anonymous clients are allowed, so one publisher can write every
 * device's topic) and persistence (nothing to restore here).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const MOSQUITTO_BIN = process.env.BENCH_MOSQUITTO ?? '/usr/sbin/mosquitto';
const DEPLOY_CONF = fileURLToPath(new URL('../deploy/mosquitto/mosquitto.conf', import.meta.url));

export function mosquittoAvailable(): boolean {
  return existsSync(MOSQUITTO_BIN);
}

export function mosquittoVersion(): string | undefined {
  if (!mosquittoAvailable()) return undefined;
  // `-h` prints the version and exits non-zero; the text is what we want.
  const out = spawnSync(MOSQUITTO_BIN, ['-h'], { encoding: 'utf8', timeout: 5000 });
  return /mosquitto version (\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1];
}

function directive(conf: string, key: string): string | undefined {
  for (const line of conf.split('\n')) {
    const m = /^\s*(\S+)\s+(.*?)\s*$/.exec(line);
    if (m && m[1] === key) return m[2];
  }
  return undefined;
}

export interface BrokerSettings {
  maxInflightMessages: number;
  maxQueuedMessages: number;
  /** Where the values came from, for the report. */
  source: string;
  /** Keep sessions and queued messages on disk across restart() (as deploy/mosquitto does). */
  persistence?: boolean;
}

/** The deploy config's window and queue; the queue is raised if the run publishes more than it holds. */
export function benchBrokerSettings(messages: number): BrokerSettings {
  const conf = readFileSync(DEPLOY_CONF, 'utf8');
  const inflight = Number(directive(conf, 'max_inflight_messages'));
  const queued = Number(directive(conf, 'max_queued_messages'));
  if (!Number.isInteger(inflight) || !Number.isInteger(queued)) {
    throw new Error(`${DEPLOY_CONF} must set max_inflight_messages and max_queued_messages; the benchmark mirrors them`);
  }
  // A subscriber slower than the publisher lets the rest queue at the broker; past the
  // limit Mosquitto drops QoS 1 messages, which would read as lost data, not as speed.
  const raised = queued > 0 && queued < messages;
  return {
    maxInflightMessages: inflight,
    maxQueuedMessages: raised ? messages : queued,
    source: raised
      ? `in-flight window from deploy/mosquitto/mosquitto.conf; queue raised from ${queued} to ${messages} for this run`
      : 'in-flight window and queue length from deploy/mosquitto/mosquitto.conf',
  };
}

/** A TCP port free on 127.0.0.1 at the moment of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export async function canConnect(port: number): Promise<boolean> {
  const socket = net.connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

export class BenchBroker {
  private log = '';

  private constructor(
    private proc: ChildProcess,
    private readonly dir: string,
    private readonly confPath: string,
    readonly port: number,
  ) {
    this.listen(proc);
  }

  private listen(proc: ChildProcess): void {
    proc.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** What the broker logged (errors and warnings only). */
  get output(): string {
    return this.log;
  }

  static async start(settings: BrokerSettings): Promise<BenchBroker> {
    const dir = mkdtempSync(join(tmpdir(), 'armada-bench-mosquitto-'));
    // Started as root, Mosquitto drops to its own user before it writes its database.
    if (settings.persistence) chmodSync(dir, 0o777);
    const port = await freePort();
    const confPath = join(dir, 'mosquitto.conf');
    writeFileSync(
      confPath,
      [
        '# Written by bench/mosquitto.ts for one benchmark run.',
        'per_listener_settings false',
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        `max_inflight_messages ${settings.maxInflightMessages}`,
        `max_queued_messages ${settings.maxQueuedMessages}`,
        'max_queued_bytes 0',
        ...(settings.persistence ? ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 60'] : ['persistence false']),
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
    const proc = spawn(MOSQUITTO_BIN, ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const broker = new BenchBroker(proc, dir, confPath, port);
    try {
      await broker.waitListening();
    } catch (err) {
      await broker.stop();
      throw err;
    }
    return broker;
  }

  private async waitListening(): Promise<void> {
    const deadlineMs = Date.now() + 5000;
    for (;;) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(`mosquitto exited (${this.proc.exitCode ?? this.proc.signalCode}):\n${this.log}`);
      }
      if (await canConnect(this.port)) return;
      if (Date.now() > deadlineMs) throw new Error(`mosquitto did not listen on 127.0.0.1:${this.port} within 5 s:\n${this.log}`);
      await sleep(25);
    }
  }

  /** Stops the broker as an operator would (SIGTERM: it saves its state), waits `downMs`, starts it again on the same port. */
  async restart(downMs = 0): Promise<void> {
    await this.terminate();
    await sleep(downMs);
    this.proc = spawn(MOSQUITTO_BIN, ['-c', this.confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.listen(this.proc);
    await this.waitListening();
  }

  private async terminate(): Promise<void> {
    const proc = this.proc;
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    await this.terminate();
    this.cleanUp();
  }

  private cleanUp(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
