/**
 * Results as a table on the terminal and as a dated section in BENCHMARKS.md. The
 * newest run goes on top, under a marker line; everything above the marker (the
 * introduction) and every older run below it are left exactly as they are.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { MachineInfo } from './machine.js';

export type Verdict = 'PASS' | 'BELOW' | 'OK' | 'FAIL';

export interface BenchRow {
  measure: string;
  value: string;
  target?: string;
  verdict?: Verdict;
}

export interface BenchSection {
  id: string;
  title: string;
  status: 'ok' | 'failed' | 'skipped';
  /** Why it was skipped or failed. */
  reason?: string;
  /** What was run: sizes, configuration. */
  settings: string[];
  rows: BenchRow[];
  notes: string[];
}

export const RUNS_MARKER = '<!-- bench/run.ts inserts each new run below this line, newest first -->';

const INTRO = `# Benchmarks

Measured by \`npm run bench\` (bench/run.ts). Options:

    npm run bench                                   # 100,000 messages from 1,000 devices
    npm run bench -- --messages 20000 --devices 200 # quicker
    npm run bench -- --only ingest --no-write       # print only, leave this file alone

It needs PostgreSQL (\`BENCH_DATABASE_URL\`, default \`postgres://postgres@127.0.0.1:5432/postgres\`;
the user must be allowed to create databases: each run creates \`armada_bench_<time>\` and drops it)
and the \`mosquitto\` binary (\`/usr/sbin/mosquitto\`, or \`BENCH_MOSQUITTO\`): the run starts its own
broker on a free port. \`INGEST_BATCH_SIZE\` and \`INGEST_BATCH_WAIT_MS\`, if set, reach the worker.

**Ingest** publishes the same QoS 1 messages twice with the same publisher: first to a bare
subscriber that acknowledges each message at once (the broker's raw delivery rate, the ceiling),
then to Armada's ingest worker as it ships (\`startServices\`, worker role only), where a message
counts once its batch is committed. Both rates are timed from the first publish to the last
message received (raw) or committed (ingest). Receivers run in their own process, so the worker's
memory is its own.

These are measurements on whatever machine ran them, often a small shared one: read them as
ratios between the two phases and between runs on the same machine, not as promises. Targets
are printed as PASS or BELOW; the benchmark records, it does not fail on a target.

${RUNS_MARKER}
`;

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}

export function describeMachineLine(m: MachineInfo): string {
  return [
    `${m.cpuModel}, ${m.cores} cores, ${m.totalMemoryGb.toFixed(1)} GB`,
    m.os,
    `Node ${m.node}`,
    `PostgreSQL ${m.postgres} (synchronous_commit ${m.postgresSynchronousCommit})`,
    `Mosquitto ${m.mosquitto ?? 'not installed'}`,
    `load average ${m.loadAverageAtStart.toFixed(2)} at start`,
  ].join(' · ');
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - text.length));
}

export function printSection(section: BenchSection): void {
  console.log(`\n${section.title}`);
  if (section.status !== 'ok') console.log(`  ${section.status.toUpperCase()}: ${section.reason ?? ''}`);
  if (section.rows.length === 0) return;
  for (const s of section.settings) console.log(`  ${s}`);
  const header: BenchRow = { measure: 'measure', value: 'value', target: 'target', verdict: undefined };
  const rows = [header, ...section.rows];
  const w = {
    measure: Math.max(...rows.map((r) => r.measure.length)),
    value: Math.max(...rows.map((r) => r.value.length)),
    target: Math.max(...rows.map((r) => (r.target ?? '').length)),
  };
  console.log('');
  for (const r of rows) {
    const line = `  ${pad(r.measure, w.measure)}  ${pad(r.value, w.value)}  ${pad(r.target ?? '', w.target)}  ${r === header ? 'verdict' : r.verdict ?? ''}`;
    console.log(line.trimEnd());
  }
  if (section.notes.length > 0) console.log('');
  for (const n of section.notes) console.log(`  - ${n}`);
}

function markdownSection(section: BenchSection): string {
  const lines = [`### ${section.title}`, ''];
  for (const s of section.settings) lines.push(`- ${s}`);
  lines.push('', '| measure | value | target | verdict |', '| --- | ---: | --- | --- |');
  for (const r of section.rows) lines.push(`| ${r.measure} | ${r.value} | ${r.target ?? ''} | ${r.verdict ?? ''} |`);
  if (section.notes.length > 0) {
    lines.push('');
    for (const n of section.notes) lines.push(`- ${n}`);
  }
  return lines.join('\n');
}

export function renderRun(startedAt: Date, machine: MachineInfo, sections: readonly BenchSection[]): string {
  const dateIso = startedAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return [
    `## Run of ${dateIso}`,
    '',
    `Machine: ${describeMachineLine(machine)}`,
    '',
    sections.map(markdownSection).join('\n\n'),
    '',
  ].join('\n');
}

/** Puts `run` on top of the earlier runs; creates the file with its introduction if needed. */
export function recordRun(path: string, run: string): void {
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : INTRO;
  const at = existing.indexOf(RUNS_MARKER);
  const text =
    at === -1
      ? `${existing.trimEnd()}\n\n${RUNS_MARKER}\n\n${run}`
      : `${existing.slice(0, at + RUNS_MARKER.length)}\n\n${run}\n${existing.slice(at + RUNS_MARKER.length).replace(/^\n+/, '')}`;
  writeFileSync(path, `${text.trimEnd()}\n`);
}
