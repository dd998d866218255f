/**
 * `npm run bench`: runs the benchmarks, prints their figures, and records them with the
 * machine and the date in bench/results/ and BENCHMARKS.md (see its introduction for options).
 * A benchmark records where things stand; missing a target does not fail the run,
 * wrong results (lost or duplicated data) do.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runAnalyticsBench } from './analytics.js';
import { runFinanceBench } from './finance.js';
import { runIngestBench, type BenchContext } from './ingest.js';
import { runLiveBench } from './live.js';
import { runScaleOutBench } from './scale-out.js';
import { runWebMapBench } from './web-map.js';
import { describeMachine } from './machine.js';
import { adminUrl, checkpoint, describeUrl } from './postgres.js';
import { describeMachineLine, printSection, recordRun, type BenchSection } from './report.js';

const BENCHMARKS: Record<string, (ctx: BenchContext) => Promise<BenchSection>> = {
  ingest: runIngestBench,
  // The ingest targets hold at 10,000 devices too (and the worker's memory target is set there).
  'ingest-10k': (ctx) => runIngestBench({ ...ctx, devices: Math.max(ctx.devices, 10_000) }),
  analytics: runAnalyticsBench,
  live: runLiveBench,
  'web-map': runWebMapBench,
  finance: runFinanceBench,
  'scale-out': runScaleOutBench,
};

const BENCHMARKS_FILE = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

const USAGE = `Usage: npm run bench -- [options]

  --messages N   messages to publish (default 100000)
  --devices N    devices they come from (default 1000)
  --only NAMES   run only these benchmarks, comma-separated (${Object.keys(BENCHMARKS).join(', ')})
  --no-write     print the figures, record nothing
  --profile      also write the ingest worker's CPU profile (node --cpu-prof)
  --worker-node-options="FLAGS"
                 node options for the ingest worker's process, e.g. heap limits:
                 --worker-node-options="--max-old-space-size=96 --max-semi-space-size=4"
                 (with the =, as the flags start with a dash)

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
BENCH_MOSQUITTO (default /usr/sbin/mosquitto), INGEST_BATCH_SIZE, INGEST_BATCH_WAIT_MS, INGEST_CONCURRENCY,
INGEST_STATE_FLUSH_MS.`;

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${text}"`);
  return n;
}

class UsageError extends Error {}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '100000' },
      devices: { type: 'string', default: '1000' },
      only: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'worker-node-options': { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const messages = positiveInt('messages', values.messages);
  const devices = positiveInt('devices', values.devices);
  const selected = values.only
    ? values.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : Object.keys(BENCHMARKS);
  const unknown = selected.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0) throw new UsageError(`unknown benchmark ${unknown.join(', ')}; there are: ${Object.keys(BENCHMARKS).join(', ')}`);
  const workerNodeOptions = values['worker-node-options'].split(/\s+/).filter(Boolean);
  const notAnOption = workerNodeOptions.find((o) => !o.startsWith('--'));
  if (notAnOption) throw new UsageError(`--worker-node-options takes node options (--name or --name=value), got "${notAnOption}"`);
  return { messages, devices, selected, write: !values['no-write'], profile: values.profile, workerNodeOptions, help: values.help };
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions();
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }

  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(130);
    console.error('\ninterrupted: cleaning up (press Ctrl-C again to leave at once)');
    controller.abort();
  });

  const url = adminUrl();
  const startedAt = new Date();
  const machine = await describeMachine(url);
  console.log(`Armada benchmarks, ${startedAt.toISOString()}`);
  console.log(describeMachineLine(machine));
  console.log(`PostgreSQL server: ${describeUrl(url)}`);

  const ctx: BenchContext = {
    messages: options.messages,
    devices: options.devices,
    adminUrl: url,
    signal: controller.signal,
    profile: options.profile,
    workerNodeOptions: options.workerNodeOptions,
  };
  const sections: BenchSection[] = [];
  for (const name of options.selected) {
    if (controller.signal.aborted) break;
    try {
      await checkpoint(url);
      sections.push(await BENCHMARKS[name]!(ctx));
    } catch (err) {
      sections.push({ id: name, title: name, status: 'failed', reason: (err as Error).message, settings: [], rows: [], notes: [] });
    }
  }

  sections.forEach(printSection);
  const recorded = sections.filter((s) => s.status === 'ok');
  if (options.write && !controller.signal.aborted && recorded.length > 0) {
    const runFile = recordRun(BENCHMARKS_FILE, startedAt, machine, recorded);
    console.log(
      `\nRecorded in ${runFile} and ${BENCHMARKS_FILE}${recorded.length < sections.length ? ' (only the benchmarks that completed)' : ''}.`,
    );
  } else if (options.write) {
    console.log('\nNothing recorded: no benchmark completed.');
  }
  return sections.some((s) => s.status === 'failed') ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.message);
    process.exit(1);
  },
);
