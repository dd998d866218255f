/**
 * The layering rules in biome.jsonc, tried on probe sources laid out like the project in a
 * scratch folder beside a copy of the configuration (nothing is written into the tree):
 * each forbidden import is refused, and the allowed ones next to it pass.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../support/process.js';

const biome = join(projectRoot, 'node_modules', '.bin', 'biome');
const scratch = mkdtempSync(join(tmpdir(), 'armada-layers-'));
copyFileSync(join(projectRoot, 'biome.jsonc'), join(scratch, 'biome.jsonc'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The restricted-import diagnostics Biome gives `source` at `path`. */
function lint(path: string, source: string): string[] {
  const file = join(scratch, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, source);
  const run = spawnSync(biome, ['lint', '--max-diagnostics=50', path], { cwd: scratch, encoding: 'utf8' });
  const out = `${run.stdout}${run.stderr}`;
  if (/Checked 0 files|No files were processed/.test(out)) throw new Error(`Biome did not look at ${path}: ${out}`);
  return [...out.matchAll(/lint\/style\/noRestrictedImports/g)].map((m) => m[0]);
}

const cases: Array<{ path: string; forbidden: string[]; allowed: string[] }> = [
  {
    path: 'src/domain/probe.ts',
    forbidden: [
      "import pg from 'pg';",
      "import { a } from '../repositories/vehicles.js';",
      "import { a } from '../db/client.js';",
      "import { a } from '../http/app.js';",
      "import { a } from 'node:fs';",
    ],
    allowed: ["import { a } from './geo.js';", "import { a } from './finance/money.js';", "import { z } from 'zod';"],
  },
  {
    path: 'src/domain/finance/probe.ts',
    forbidden: ["import { a } from '../../repositories/index.js';", "import { a } from '../../finance/ledger.js';"],
    allowed: ["import { a } from './money.js';", "import { a } from '../report-time.js';"],
  },
  {
    path: 'src/repositories/probe.ts',
    forbidden: [
      "import { a } from '../analytics/service.js';",
      "import { a } from '../services.js';",
      "import { a } from '../finance/ledger.js';",
      "import { a } from '../http/app.js';",
    ],
    allowed: ["import { a } from '../db/client.js';", "import { a } from '../domain/fuel/index.js';", "import { a } from './scope.js';"],
  },
  {
    path: 'src/repositories/finance/probe.ts',
    forbidden: ["import { a } from '../../finance/savings.js';"],
    allowed: ["import { a } from '../../db/schema.js';"],
  },
  {
    path: 'src/ingest/probe.ts',
    forbidden: ["import { a } from '../http/app.js';"],
    allowed: ["import { a } from '../repositories/index.js';"],
  },
  {
    path: 'src/ingest/start/probe.ts',
    forbidden: ["import { a } from '../../http/app.js';", "import { a } from '../../http/routes/devices.js';"],
    allowed: ["import { a } from '../../repositories/index.js';", "import { a } from '../worker.js';"],
  },
  {
    path: 'src/http/routes/probe.ts',
    forbidden: ["import { a } from '../../ingest/worker.js';"],
    allowed: ["import { a } from '../../repositories/index.js';"],
  },
  {
    path: 'src/cli.ts',
    forbidden: ["import { a } from '../simulator/live.js';", "import { a } from '../demo/seed.js';"],
    allowed: ["import { a } from './runtime.js';"],
  },
  {
    path: 'simulator/probe.ts',
    forbidden: ["import { a } from '../src/domain/topics.js';", "import { a } from '../demo/seed.js';"],
    allowed: ["import { a } from './fleet/index.js';", "import mqtt from 'mqtt';"],
  },
  {
    path: 'simulator/fleet/probe.ts',
    forbidden: ["import { a } from '../../src/domain/topics.js';", "import { a } from '../../demo/seed.js';"],
    allowed: ["import { a } from '../kupang.js';", "import { a } from './state.js';"],
  },
];

describe('layering rules', () => {
  for (const c of cases) {
    it(`${c.path}: refuses ${c.forbidden.length} imports, allows ${c.allowed.length}`, () => {
      for (const line of c.forbidden) expect(lint(c.path, `${line}\nexport const used = a;\n`), line).toHaveLength(1);
      for (const line of c.allowed) expect(lint(c.path, `${line}\nexport const used = a;\n`), line).toHaveLength(0);
    });
  }
});

describe('SQL', () => {
  it('is written only in src/repositories/ and src/db/', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(join(projectRoot, dir), { withFileTypes: true })) {
        const path = `${dir}/${entry.name}`;
        if (entry.isDirectory()) {
          if (path !== 'src/repositories' && path !== 'src/db') walk(path);
        } else if (path.endsWith('.ts')) {
          readFileSync(join(projectRoot, path), 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (/\.query(<|\(['`])|\bsql`|\.execute\(/.test(line)) offenders.push(`${path}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    walk('src');
    expect(offenders).toEqual([]);
  });
});
