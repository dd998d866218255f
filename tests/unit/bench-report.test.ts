/** BENCHMARKS.md is rewritten from the run files: the latest figures of each benchmark, every target once. */
import { describe, expect, it } from 'vitest';
import { renderBenchmarks, type RecordedRun } from '../../bench/report.js';

const run = (startedAt: string, id: string, value: string, verdict: 'PASS' | 'BELOW'): RecordedRun => ({
  startedAt,
  machine: 'test machine',
  sections: [
    {
      id,
      title: `${id} title`,
      status: 'ok',
      settings: [`setting of ${startedAt}`],
      rows: [{ measure: 'rate', value, target: '≥ 10', verdict }],
      notes: [],
    },
  ],
});

describe('BENCHMARKS.md', () => {
  it('shows each benchmark’s newest run and its targets, not the older runs', () => {
    const text = renderBenchmarks([
      run('2026-11-02T00:00:00.000Z', 'ingest', '12', 'PASS'),
      run('2026-11-01T00:00:00.000Z', 'ingest', '5', 'BELOW'),
      run('2026-11-01T12:00:00.000Z', 'live', '7', 'BELOW'),
    ]);
    expect(text).toContain('| ingest | rate | ≥ 10 | 12 | PASS | 2026-11-02T00:00:00Z |');
    expect(text).toContain('| live | rate | ≥ 10 | 7 | BELOW | 2026-11-01T12:00:00Z |');
    expect(text).not.toContain('setting of 2026-11-01T00:00:00.000Z');
    expect(text).toContain('setting of 2026-11-02T00:00:00.000Z');
    expect(text.match(/^### ingest title/gm)).toHaveLength(1);
  });
});
