/**
 * Fuel: how much a vehicle used, and when fuel went into or out of its tank. Pure.
 *
 * Three sources, best first (docs/analytics.md, "Fuel"):
 *  - counter: the engine's cumulative fuel counter (CAN `fuelUsedLitres`): the sum of
 *    its increments; a counter that goes backwards (an ECU reset) adds nothing;
 *  - sensor: the tank level (`fuelLitres`, or `fuelPercent` × tank), smoothed, with
 *    refuels and drains taken out (below);
 *  - rated: rated L/100 km × distance + idle L/h × idle hours.
 *
 * The level sensor, unlike Traccar's first-minus-last reading:
 *  1. Smoothing. A running median over `smoothingS` (and at least five readings) takes
 *     out noise and slosh spikes yet keeps the edges of a refuel, which a mean would blur.
 *  2. A residual that should stay flat: the smoothed level plus the litres the rated
 *     figures say were burnt so far. Driving makes the level fall; it does not make the
 *     residual fall, so a fall of the residual is fuel that driving does not explain.
 *  3. Steps. At every reading, the median residual over `stepWindowS` after it minus the
 *     median over the same time before it. A run of large rises is a refuel, of large
 *     falls a drain; the extent of each is where the residual leaves the level before
 *     and reaches the level after, and its volume is re-measured from the readings
 *     outside that extent (those taken standing, when there are enough).
 *  4. Conditions. A refuel must happen standing; a drain may happen standing or moving
 *     (the residual already allows for what driving burns). Both must reach a threshold
 *     that scales with the tank: max(litres, percent of the tank). Events of one kind
 *     closer than `mergeGapS` are one event (a pump stopped and restarted).
 *  5. Litres used between two instants: for each stretch with the engine running, the level
 *     before it minus the level after it (corrected for the events, so it only falls by
 *     burning); the engine does not burn fuel while it is off, so noise, refuels and drains
 *     in parked time never reach this. The levels are fitted together (sensorUsedLitres):
 *     a parked stretch's level is one unknown shared by the runs either side, so errors
 *     cancel, and it is measured by the many calm readings taken parked, by the readings
 *     taken driving (allowing for what the rated figures burn), and, where readings are few
 *     (a pump), by the rated figures calibrated on the day's well-measured runs. A refuel or
 *     a drain never makes consumption negative, and an error in the volume of one that
 *     happened parked does not reach it.
 */
export { sensorUsedLitres, levelNear } from './consumption.js';
export { buildLevelModel, cumulativeIdleS, levelLitres, type LevelModel } from './level-model.js';
export {
  DEFAULT_FUEL_SETTINGS,
  drainThresholdLitres,
  refuelThresholdLitres,
  type FuelEvent,
  type FuelSettings,
  type FuelSource,
  type VehicleFuelSpec,
} from './settings.js';
