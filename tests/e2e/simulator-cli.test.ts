/**
 * `npm run simulate` as a user runs it: help and usage errors, a batch run written to
 * files twice with the same bytes, and a batch run that registers its fleet with a
 * running Armada and publishes Armada and OwnTracks readings that come back out of the API.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../support/process.js';
import { startTestService, waitFor, type TestService } from '../support/service.js';

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function simulate(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/cli.ts', ...args], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'armada-sim-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run simulate', () => {
  it('explains itself with --help, and names a bad option with exit code 2', async () => {
    const [help, bad] = await Promise.all([simulate(['--help']), simulate(['--vehicles', 'many', '--out', 'x.jsonl'])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run simulate -- \[options\]/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--vehicles must be a whole number');
  });

  it('writes the same readings and truth, byte for byte, for the same seed', async () => {
    const args = (n: number) => [
      '--vehicles',
      '4',
      '--seed',
      '9',
      '--from',
      '2026-11-02T06:00:00+08:00',
      '--to',
      '2026-11-02T12:00:00+08:00',
      '--out',
      join(dir, `r${n}.jsonl`),
      '--truth',
      join(dir, `t${n}.jsonl`),
    ];
    const runs = await Promise.all([simulate(args(1)), simulate(args(2))]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(runs[0]!.stderr).toMatch(/100%/);
    const [r1, r2, t1, t2] = ['r1', 'r2', 't1', 't2'].map((f) => readFileSync(join(dir, `${f}.jsonl`)));
    expect(r1!.equals(r2!)).toBe(true);
    expect(t1!.equals(t2!)).toBe(true);
    const lines = r1!
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { topic: string; payload: unknown });
    expect(lines.length).toBeGreaterThan(1000);
    expect(Object.keys(lines[0]!)).toEqual(['topic', 'payload']);
    expect(lines[0]!.topic).toMatch(/^fleet\/v1\/devices\/sim-\d{4}\/telemetry$/);
    const truth = t1!
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(truth[0]!.type).toBe('run');
    expect(truth.slice(-4).map((r) => r.type)).toEqual(['vehicle', 'vehicle', 'vehicle', 'vehicle']);
  });
});

describe('npm run simulate against a running Armada', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService();
  });
  afterAll(async () => {
    await t?.close();
  });

  type Vehicle = { id: string; plateNumber: string };
  type Track = { features: Array<{ properties: { at: string } }> };

  it('registers the fleet and publishes readings, Armada and OwnTracks, that the API then shows', async () => {
    const toMs = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const fromMs = toMs - 2 * 3600_000;
    const common = [
      '--api',
      t.services.httpUrl!,
      '--mqtt',
      t.deviceMqttUrl,
      '--vehicles',
      '1',
      '--seed',
      '5',
      '--from',
      new Date(fromMs).toISOString(),
      '--to',
      new Date(toMs).toISOString(),
      '--schedule',
      'always',
      '--bad-fix-rate',
      '0',
      '--quiet',
    ];
    const env = { ARMADA_API_KEY: t.adminKey };
    const readingsOf = (o: Outcome) => Number(/: (\d+) readings in/.exec(o.stdout)?.[1]);
    // Two trackers in one vehicle: the same path (the model follows the vehicle), read at different intervals.
    const armada = await simulate([...common, '--interval', '10', '--out', join(dir, 'api-armada.jsonl')], env);
    expect(armada.code, armada.stderr).toBe(0);
    expect(armada.stdout).toContain('registered 1 vehicles in department SIM');
    // The receipts endpoint arrives with a later issue; until then the simulator says so once and goes on.
    expect((armada.stdout + armada.stderr).split('\n').filter((l) => /receipt/.test(l)).length).toBeLessThanOrEqual(1);
    const owntracks = await simulate(
      [...common, '--interval', '7', '--format', 'owntracks', '--out', join(dir, 'api-owntracks.jsonl')],
      env,
    );
    expect(owntracks.code, owntracks.stderr).toBe(0);
    expect(readingsOf(armada)).toBeGreaterThan(300);
    expect(readingsOf(owntracks)).toBeGreaterThan(readingsOf(armada));

    const vehicles = (await (await t.api('/api/v1/vehicles')).json()) as Vehicle[];
    const sim1 = vehicles.find((v) => v.plateNumber === 'SIM 0001')!;
    expect(sim1).toBeDefined();
    const devices = (await (await t.api(`/api/v1/vehicles/${sim1.id}/devices`)).json()) as Array<{ id: string }>;
    expect(devices.map((d) => d.id).sort()).toEqual(['sim-0001', 'sim/sim-0001']);

    // Every fix time either tracker sent (the --out files show what went on the wire), each
    // stored once: both trackers report an ignition change at the same second.
    const sentTimes = new Set<string>();
    for (const file of ['api-armada.jsonl', 'api-owntracks.jsonl']) {
      for (const line of readFileSync(join(dir, file), 'utf8').trim().split('\n')) {
        const { payload } = JSON.parse(line) as { payload: { ts?: string; tst?: number } };
        sentTimes.add(payload.ts ?? new Date(payload.tst! * 1000).toISOString());
      }
    }
    expect(sentTimes.size).toBeGreaterThan(readingsOf(owntracks));
    const trackUrl = `/api/v1/vehicles/${sim1.id}/track?from=${new Date(fromMs - 60_000).toISOString()}&to=${new Date(toMs + 60_000).toISOString()}&limit=100000`;
    const track = await waitFor(async () => {
      const body = (await (await t.api(trackUrl)).json()) as Track;
      return body.features.length >= sentTimes.size ? body : null;
    }, "both trackers' readings in the track");
    expect(new Set(track.features.map((f) => f.properties.at))).toEqual(sentTimes);
    expect(await (await t.api('/api/v1/quarantine')).json()).toEqual([]);
  });
});
