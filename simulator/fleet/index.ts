/**
 * A deterministic model of a Kupang fleet: where each vehicle is, how fast it goes,
 * what its tank holds, what its tracker sends, and the ground truth of it all. Pure:
 * no clock, no I/O, no Math.random — the same seed and options give the same readings
 * and truth, however the run is cut into `advanceTo` calls.
 *
 * Each vehicle lives on its own one-second clock counted from `startMs` (vehicle.ts).
 * What it does next is decided when a phase ends (activities.ts), from its duty, the
 * WITA clock and its tank; the plan for each day is drawn from a stream named after the
 * vehicle and the day (schedule.ts). simulator/README.md lists the modules.
 */
export type { ReadingTruth, SimMessage, SimReading } from './messages.js';
export type { FleetOptions, ResolvedFleetOptions, ScheduleMode } from './settings.js';
export { createFleetSimulation, type AdvanceResult, type FleetSimulation } from './simulation.js';
export type { SimVehicle } from '../vehicles.js';
