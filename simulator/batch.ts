/**
 * Batch mode: a whole period simulated as fast as the machine allows, in chunks of
 * simulated time, handing each chunk's messages and truth to the sinks (which may make
 * it wait: a file or a broker that is behind). The output does not depend on the chunk
 * size: `tests/unit/simulator-truth.test.ts` checks it.
 */
import { createFleetSimulation, type FleetOptions, type FleetSimulation, type SimMessage } from './fleet/index.js';
import type { RunRecord, TruthRecord } from './truth.js';

export interface BatchProgress {
  simulatedMs: number;
  fraction: number;
  messages: number;
  readings: number;
}

export interface BatchSinks {
  messages?(messages: SimMessage[]): Promise<void> | void;
  truth?(records: TruthRecord[]): Promise<void> | void;
  progress?(p: BatchProgress): void;
}

export interface BatchSummary {
  messages: number;
  readings: number;
  truthRecords: number;
  vehicles: number;
}

export function runRecord(sim: FleetSimulation, endMs: number): RunRecord {
  const o = sim.options;
  return {
    type: 'run',
    seed: o.seed,
    startAt: new Date(o.startMs).toISOString(),
    endAt: new Date(endMs).toISOString(),
    schedule: o.schedule,
    intervalS: o.intervalS,
    parkedIntervalS: o.parkedIntervalS,
    format: o.format,
    vehicles: sim.vehicles.length,
    options: {
      sensor: o.sensor,
      gpsNoiseM: o.gpsNoiseM,
      badFixRate: o.badFixRate,
      drainRatePerDay: o.drainRatePerDay,
      fraud: o.fraud,
      afterHoursRatePerDay: o.afterHoursRatePerDay,
      outOfCityRatePerDay: o.outOfCityRatePerDay,
      offlineRatePerDay: o.offlineRatePerDay,
    },
  };
}

export async function runBatch(fleet: FleetOptions, endMs: number, sinks: BatchSinks, chunkMs = 3600_000): Promise<BatchSummary> {
  const sim = createFleetSimulation(fleet);
  const startMs = sim.options.startMs;
  if (!(endMs > startMs)) throw new Error('the end of a batch run must be after its start');
  const summary: BatchSummary = { messages: 0, readings: 0, truthRecords: 0, vehicles: sim.vehicles.length };
  const deliverTruth = async (records: TruthRecord[]) => {
    summary.truthRecords += records.length;
    if (records.length > 0) await sinks.truth?.(records);
  };
  await deliverTruth([runRecord(sim, endMs)]);
  for (let t = startMs; t < endMs; ) {
    t = Math.min(endMs, t + chunkMs);
    const { messages, truth } = sim.advanceTo(t);
    summary.messages += messages.length;
    for (const m of messages) summary.readings += m.readings;
    if (messages.length > 0) await sinks.messages?.(messages);
    await deliverTruth(truth);
    sinks.progress?.({
      simulatedMs: t,
      fraction: (t - startMs) / (endMs - startMs),
      messages: summary.messages,
      readings: summary.readings,
    });
  }
  const last = sim.finish();
  summary.messages += last.messages.length;
  for (const m of last.messages) summary.readings += m.readings;
  if (last.messages.length > 0) await sinks.messages?.(last.messages);
  await deliverTruth(last.truth);
  return summary;
}

/**
 * A whole run in memory: for tests and for accuracy checks that compare Armada's reports
 * with the truth (keep it to days of a small fleet; a month of thirty vehicles is a few
 * million messages).
 */
export function simulatePeriod(fleet: FleetOptions, endMs: number, chunkMs = 3600_000): { messages: SimMessage[]; truth: TruthRecord[] } {
  const sim = createFleetSimulation(fleet);
  const messages: SimMessage[] = [];
  const truth: TruthRecord[] = [runRecord(sim, endMs)];
  for (let t = sim.options.startMs; t < endMs; ) {
    t = Math.min(endMs, t + chunkMs);
    const r = sim.advanceTo(t);
    for (const m of r.messages) messages.push(m);
    for (const x of r.truth) truth.push(x);
  }
  const last = sim.finish();
  messages.push(...last.messages);
  truth.push(...last.truth);
  return { messages, truth };
}
