/**
 * The fleet simulation: every vehicle of the fleet run on the same clock, their messages
 * and truth records collected in time order.
 */
import { encodeFix, topicFor, type ArmadaPayload } from '../formats.js';
import type { TruthRecord } from '../truth.js';
import { setupVehicle, type VehicleSetup } from '../vehicles.js';
import type { SimMessage, SimReading } from './messages.js';
import { resolveFleetOptions, type FleetOptions, type ResolvedFleetOptions } from './settings.js';
import type { Context, Output, VehicleState } from './state.js';
import { buildFix } from './tracker.js';
import { advanceVehicle, finishVehicle, initialState } from './vehicle.js';

export interface AdvanceResult {
  messages: SimMessage[];
  truth: TruthRecord[];
}

export interface FleetSimulation {
  readonly options: ResolvedFleetOptions;
  readonly vehicles: readonly VehicleSetup[];
  /** Simulated time reached, epoch ms. */
  nowMs(): number;
  /**
   * Runs every vehicle up to `nowMs` (the last whole second) and answers the messages
   * published and the truth records finished on the way, in time order.
   */
  advanceTo(nowMs: number): AdvanceResult;
  /**
   * Closes the run at the time reached: open trips, stops and events, day and vehicle
   * summaries, and the backlog of devices still out of coverage (sent at the end).
   */
  finish(): AdvanceResult;
  /**
   * Advances to `nowMs` and answers one snapshot reading per vehicle (Armada format),
   * discarding the scheduled messages. For displays that only want the latest state.
   */
  step(nowMs: number): SimReading[];
}

/** Takes every vehicle's outbox, in order of second, then of vehicle. */
function collect(states: VehicleState[]): AdvanceResult {
  const tagged: Array<{ output: Output; vehicleIndex: number }> = [];
  for (const s of states) {
    for (const output of s.out) tagged.push({ output, vehicleIndex: s.index });
    s.out = [];
  }
  // Stable: within one vehicle and second, outputs keep the order they happened in.
  tagged.sort((a, b) => a.output.keyS - b.output.keyS || a.vehicleIndex - b.vehicleIndex);
  const result: AdvanceResult = { messages: [], truth: [] };
  for (const { output } of tagged) {
    if (output.message) result.messages.push(output.message);
    if (output.record) result.truth.push(output.record);
  }
  return result;
}

export function createFleetSimulation(options: FleetOptions): FleetSimulation {
  const opts = resolveFleetOptions(options);
  const setups = options.vehicles.map(setupVehicle);
  const ids = new Set<string>();
  const plates = new Set<string>();
  for (const v of setups) {
    if (ids.has(v.spec.deviceId)) throw new Error(`two vehicles with device id ${v.spec.deviceId}`);
    if (plates.has(v.plateNumber)) throw new Error(`two vehicles with plate ${v.plateNumber}`);
    ids.add(v.spec.deviceId);
    plates.add(v.plateNumber);
    topicFor(opts.format, v.spec.deviceId);
  }
  const ctx: Context = { opts, iso: (s) => new Date(opts.startMs + s * 1000).toISOString() };
  const states = setups.map((setup, i) => initialState(setup, i, ctx));
  let reachedS = -1;
  let finished = false;

  const advanceTo = (nowMs: number): AdvanceResult => {
    if (finished) throw new Error('the simulation has finished');
    const targetS = Math.floor((nowMs - opts.startMs) / 1000);
    if (targetS <= reachedS) return { messages: [], truth: [] };
    reachedS = targetS;
    for (const s of states) advanceVehicle(s, ctx, targetS);
    return collect(states);
  };

  return {
    options: opts,
    vehicles: setups,
    nowMs: () => opts.startMs + Math.max(0, reachedS) * 1000,
    advanceTo,
    finish(): AdvanceResult {
      if (finished) return { messages: [], truth: [] };
      const early = reachedS < 0 ? advanceTo(opts.startMs) : { messages: [], truth: [] };
      finished = true;
      for (const s of states) finishVehicle(s, ctx);
      const last = collect(states);
      // The per-vehicle summaries close the truth, after every vehicle's last events.
      const summaries = last.truth.filter((r) => r.type === 'vehicle');
      const rest = last.truth.filter((r) => r.type !== 'vehicle');
      return { messages: [...early.messages, ...last.messages], truth: [...early.truth, ...rest, ...summaries] };
    },
    step(nowMs: number): SimReading[] {
      const targetS = Math.floor((nowMs - opts.startMs) / 1000);
      if (targetS <= reachedS) return [];
      advanceTo(nowMs);
      return states.map((s) => {
        const { fix } = buildFix(s, ctx, s.snapshotRng);
        fix.seq = s.seq;
        return { deviceId: s.setup.spec.deviceId, payload: encodeFix('armada', s.setup.spec.deviceId, fix) as ArmadaPayload };
      });
    },
  };
}
