/** What the figures were measured on: they mean little without it. */
import os from 'node:os';
import { mosquittoVersion } from './mosquitto.js';
import { postgresInfo } from './postgres.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryGb: number;
  os: string;
  node: string;
  postgres: string;
  postgresSynchronousCommit: string;
  mosquitto: string | undefined;
  /** One-minute load average before the run: other work on a shared machine skews everything. */
  loadAverageAtStart: number;
}

export async function describeMachine(adminUrl: string): Promise<MachineInfo> {
  const cpus = os.cpus();
  const pg = await postgresInfo(adminUrl);
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    totalMemoryGb: os.totalmem() / 1024 ** 3,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: pg.version,
    postgresSynchronousCommit: pg.synchronousCommit,
    mosquitto: mosquittoVersion(),
    loadAverageAtStart: os.loadavg()[0] ?? 0,
  };
}
