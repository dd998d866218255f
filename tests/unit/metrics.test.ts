/** /metrics names: every one Armada's, none with a doubled word (armada_process_process_…). */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';

describe('metric names', () => {
  it('are prefixed once', async () => {
    const names = (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toContain('armada_process_cpu_seconds_total');
    expect(names).toContain('armada_nodejs_heap_size_used_bytes');
    for (const name of names) {
      expect(name, name).toMatch(/^armada_/);
      const words = name.split('_');
      expect(
        words.some((w, i) => i > 0 && w === words[i - 1]),
        name,
      ).toBe(false);
    }
  });
});
