/**
 * Keeps the Dockerfile and the armada service of docker-compose.yml honest without a
 * Docker engine: the health check one-liners run against a stub HTTP server, the code
 * is compiled as the build stage compiles it and started with the image's command and
 * NODE_OPTIONS, the files it copies exist, and everything src/ imports at run time
 * survives `npm ci --omit=dev`.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { freePort } from '../support/process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const compose = YAML.parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'));

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => /^\s*([A-Z]+)\s+(.*?)\s*$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ op: m[1]!, args: m[2]! }));
}

/** The exec-form (JSON) command after CMD in a CMD or HEALTHCHECK instruction. */
function execForm(args: string): string[] {
  const json = /(?:^|\s)CMD\s+(\[.*\])$/.exec(args)?.[1] ?? (args.startsWith('[') ? args : undefined);
  if (json === undefined) throw new Error(`not an exec-form command: ${args}`);
  return JSON.parse(json) as string[];
}

type Run = { code: number; stdout: string; stderr: string };

function run(argv: string[], env: Record<string, string> = {}, cwd = ROOT, timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { cwd, env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      // Say so when the time ran out: an empty failure otherwise.
      if (err?.killed) stderr += `\n(killed after ${timeoutMs} ms: ${argv.join(' ')})`;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('container health checks', () => {
  let server: Server;
  let port: number;
  let status = 200;
  const paths: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.close();
  });

  async function outcomes(argv: string[], env: Record<string, string>): Promise<{ ok: number; down: number; paths: string[] }> {
    paths.length = 0;
    status = 200;
    const ok = (await run(argv, env)).code;
    status = 503;
    const down = (await run(argv, env)).code;
    return { ok, down, paths: [...paths] };
  }

  it("the Dockerfile's HEALTHCHECK asks /healthz on HTTP_PORT and fails on non-2xx", async () => {
    const healthcheck = instructions(dockerfile).find((i) => i.op === 'HEALTHCHECK');
    expect(healthcheck).toBeDefined();
    const argv = execForm(healthcheck!.args);
    expect(await outcomes(argv, { HTTP_PORT: String(port) })).toEqual({ ok: 0, down: 1, paths: ['/healthz', '/healthz'] });
  });

  it("docker-compose.yml's armada health check asks /readyz on port 3000 and fails on non-2xx", async () => {
    const test = compose.services.armada.healthcheck.test as string[];
    expect(test[0]).toBe('CMD');
    expect(compose.services.armada.environment.HTTP_PORT).toBe('3000');
    const script = test[3]!;
    expect(script).toContain('127.0.0.1:3000/');
    const argv = [...test.slice(1, 3), script.replace('127.0.0.1:3000/', `127.0.0.1:${port}/`)];
    expect(await outcomes(argv, {})).toEqual({ ok: 0, down: 1, paths: ['/readyz', '/readyz'] });
  });

  it('both fail when nothing listens', async () => {
    server.close();
    await once(server, 'close');
    const argv = execForm(instructions(dockerfile).find((i) => i.op === 'HEALTHCHECK')!.args);
    expect((await run(argv, { HTTP_PORT: String(port) })).code).toBe(1);
  });
});

describe('the image', () => {
  const steps = instructions(dockerfile);
  const stages: { op: string; args: string }[][] = [];
  for (const s of steps) {
    if (s.op === 'FROM') stages.push([s]);
    else stages.at(-1)!.push(s);
  }
  const [buildStage, runStage] = [stages.at(-2) ?? [], stages.at(-1) ?? []];
  /** COPY sources of a stage that come from the build context (not from another stage). */
  const contextSources = (stage: { op: string; args: string }[]) =>
    stage
      .filter((s) => s.op === 'COPY' && !s.args.startsWith('--from='))
      .flatMap((s) =>
        s.args
          .split(/\s+/)
          .slice(0, -1)
          .map((a) => a.replace(/\/$/, '')),
      );
  const runCmd = execForm(steps.filter((s) => s.op === 'CMD').at(-1)!.args);
  const nodeOptions = /NODE_OPTIONS=(\S+)/.exec(
    runStage
      .filter((s) => s.op === 'ENV')
      .map((s) => s.args)
      .join(' '),
  )?.[1];

  it('copies files that exist', () => {
    const sources = stages.flatMap(contextSources);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true);
  });

  it('compiles the code in a build stage and runs only the compiled code', () => {
    expect(stages).toHaveLength(2);
    expect(buildStage.some((s) => s.op === 'RUN' && s.args.includes('npm run build'))).toBe(true);
    // The code, the simulator and the demo that wires them are compiled...
    for (const folder of ['src', 'simulator', 'demo', 'tsconfig.json', 'tsconfig.build.json'])
      expect(contextSources(buildStage), folder).toContain(folder);
    // ...and the image holds their output, the SQL it migrates with, and the map page.
    expect(runStage.some((s) => s.op === 'COPY' && /^--from=build\s+\/app\/dist\/?\s+\.\/dist\/?$/.test(s.args))).toBe(true);
    for (const folder of ['migrations', 'web']) expect(contextSources(runStage), folder).toContain(folder);
    expect(contextSources(runStage)).not.toContain('src');
    expect(runStage.some((s) => s.op === 'RUN' && s.args.includes('npm ci --omit=dev'))).toBe(true);
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
      compilerOptions: { outDir: string };
    };
    expect(build.compilerOptions.outDir).toBe('dist');
    expect(build.include.sort()).toEqual(['demo', 'simulator', 'src']);
  });

  it('ships the Node major the tests run on and package.json accepts, and restarts unattended', () => {
    const majors = stages.map((stage) => /^node:(\d+)-/.exec(stage[0]!.args)?.[1]);
    const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(majors).toEqual([process.versions.node.split('.')[0], process.versions.node.split('.')[0]]);
    expect(/^>=\s*(\d+)/.exec(engines)?.[1]).toBe(majors[0]);
    // A crash or a kill (the data directory lock takes over a dead holder's) must not need a person.
    for (const [name, service] of Object.entries(compose.services as Record<string, { restart?: string }>)) {
      if (name !== 'migrate') expect(service.restart, name).toBe('unless-stopped');
    }
  });

  it('caps the V8 heap through NODE_OPTIONS (the worker memory figure in BENCHMARKS.md depends on it)', () => {
    expect(nodeOptions).toMatch(/^--max-old-space-size=\d+$/);
  });

  describe('the compiled service', () => {
    // Laid out as the image's /app: the build stage's dist/ beside package.json, the
    // migrations, the map page and the dependencies (links to this checkout's).
    let app: string;
    beforeAll(async () => {
      app = mkdtempSync(join(tmpdir(), 'armada-image-'));
      for (const entry of ['package.json', 'migrations', 'web', 'node_modules']) symlinkSync(join(ROOT, entry), join(app, entry));
      const tsc = await run(
        [process.execPath, join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(app, 'dist')],
        {},
        ROOT,
        110_000,
      );
      expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
    }, 120_000);
    afterAll(() => {
      if (app) rmSync(app, { recursive: true, force: true });
    });

    it("answers the CLI's usage through the image's CMD (node as PID 1, no loader)", async () => {
      expect(runCmd).toEqual(['node', 'dist/src/cli.js', 'start']);
      expect(compose.services.armada.command).toBeUndefined();
      const help = await run([process.execPath, ...runCmd.slice(1, -1), '--help'], {}, app);
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toMatch(/\bstart\b/);
      expect(help.stdout).toMatch(/\bmigrate\b/);
      // compose's migrate service runs the same compiled CLI.
      expect(compose.services.migrate.command).toEqual(['node', 'dist/src/cli.js', 'migrate']);
    }, 30_000);

    it('starts, migrates its database, serves the map and stops cleanly on SIGTERM', async () => {
      const [httpPort, mqttPort] = [await freePort(), await freePort()];
      const dataDir = mkdtempSync(join(tmpdir(), 'armada-image-data-'));
      // Zero-setup mode (no DATABASE_URL or MQTT_URL): PGlite and the embedded broker.
      const { DATABASE_URL: _db, MQTT_URL: _mqtt, ...inherited } = process.env;
      const child = spawn(process.execPath, [...runCmd.slice(1)], {
        cwd: app,
        env: {
          ...inherited,
          NODE_OPTIONS: nodeOptions,
          DATA_DIR: dataDir,
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: String(httpPort),
          MQTT_PORT: String(mqttPort),
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = once(child, 'exit');
      try {
        const base = `http://127.0.0.1:${httpPort}`;
        let ready = 0;
        for (let i = 0; i < 240 && ready !== 200 && child.exitCode === null; i++) {
          ready = await fetch(`${base}/readyz`).then(
            (r) => r.status,
            () => 0,
          );
          if (ready !== 200) await new Promise((r) => setTimeout(r, 250));
        }
        expect(ready, stderr).toBe(200);
        const page = await fetch(`${base}/`);
        expect(page.status).toBe(200);
        expect(await page.text()).toMatch(/<html/i);
        child.kill('SIGTERM');
        const [code] = await exited;
        expect(code, stderr).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        rmSync(dataDir, { recursive: true, force: true });
      }
    }, 90_000);
  });

  it('needs at run time only packages that npm ci --omit=dev installs', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const runtime = new Set(Object.keys(pkg.dependencies));
    const builtins = new Set(builtinModules);
    const missing = new Set<string>();
    const files = ['src', 'simulator'].flatMap((d) => tsFiles(join(ROOT, d)));
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      // Value imports only: `import type` and `export type` vanish at run time.
      for (const m of text.matchAll(
        /^\s*(?:import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm,
      )) {
        const specifier = m[1] ?? m[2]!;
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier.split('/')[0]!)) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        if (!runtime.has(name)) missing.add(`${name} (${file.slice(ROOT.length)})`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}
