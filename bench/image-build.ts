/**
 * The benches measure Armada as the Docker image runs it: compiled JavaScript (the
 * Dockerfile's build stage, `npm run build`) started by plain `node` with the image's
 * NODE_OPTIONS. Both are taken from this checkout, so a change to the Dockerfile or
 * the build changes what is measured.
 *
 * The build goes into a temporary folder laid out like the image's /app: dist/ beside
 * package.json, migrations/, web/ and node_modules/ (links to this checkout's). The
 * bench's own receiving process is compiled along with it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ImageBuild {
  /** The folder that stands for the image's /app (the working directory to run in). */
  app: string;
  /** The compiled service CLI, as the image's CMD starts it. */
  cli: string;
  /** The compiled bench/consumer-child.ts. */
  consumerChild: string;
  remove(): void;
}

/** NODE_OPTIONS that the Dockerfile's last stage sets, split into node flags. */
export function imageNodeOptions(): string[] {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const value = /NODE_OPTIONS=("[^"]*"|\S+)/.exec(lastStage)?.[1]?.replace(/^"|"$/g, '');
  return value ? value.split(/\s+/).filter(Boolean) : [];
}

/** Compiles src/, simulator/ and the bench's receiving process as `npm run build` does. */
export async function buildLikeTheImage(): Promise<ImageBuild> {
  const app = mkdtempSync(join(tmpdir(), 'armada-bench-app-'));
  try {
    for (const entry of ['package.json', 'migrations', 'web', 'node_modules']) symlinkSync(join(ROOT, entry), join(app, entry));
    const config = join(app, 'tsconfig.bench.json');
    writeFileSync(
      config,
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.build.json'),
        compilerOptions: { outDir: join(app, 'dist'), rootDir: ROOT },
        include: [join(ROOT, 'src'), join(ROOT, 'simulator'), join(ROOT, 'bench/consumer-child.ts')],
      }),
    );
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', config], { cwd: ROOT });
  } catch (err) {
    rmSync(app, { recursive: true, force: true });
    const e = err as Error & { stdout?: string };
    throw new Error(`compiling for the bench failed: ${e.stdout || e.message}`);
  }
  return {
    app,
    cli: join(app, 'dist/src/cli.js'),
    consumerChild: join(app, 'dist/bench/consumer-child.js'),
    remove: () => rmSync(app, { recursive: true, force: true }),
  };
}
