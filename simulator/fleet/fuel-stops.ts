/**
 * Fuel stops and the receipts that come of them, honest or not: when a vehicle turns
 * off to a station (its tank low, or a phantom visit owed), how much it takes, the
 * receipt for each fill (some inflated), and the fraudulent receipts owed after a
 * refuel — a phantom visit (a stop at a station with no fill), a receipt from a station
 * far from where the vehicle was parked.
 */
import { isDutyTime, witaDate } from '../calendar.js';
import { fuelPriceOn } from '../fuel-prices.js';
import { distanceM, fuelStationCode, kupangFuelStations, nearestPlace, type Place } from '../kupang.js';
import { chance, pick, stream, uniform } from '../random.js';
import { round6, type FraudKind, type TripPurpose } from '../truth.js';
import { emit, type Context, type Job, type RefuelActivity, type VehicleState } from './state.js';
import { recordRefuel, vehicleRef } from './truth-records.js';
import { DAY_S, HOUR_S, round2 } from './units.js';

/** Below this fraction of the tank the vehicle refuels before its next errand. */
const REFUEL_BELOW_FRACTION = 0.25;
/** A trip out of the city starts with at least this much in the tank. */
const OUT_OF_CITY_MIN_FRACTION = 0.5;
/** An "elsewhere" receipt names a station at least this far from the parked vehicle. */
const ELSEWHERE_MIN_M = 3000;
/** Trips that are no errand of the office's own: no phantom visit is slipped in before them. */
const CHORES: readonly TripPurpose[] = ['home', 'refuel', 'phantom', 'private', 'call-out'];

/**
 * The job to drive to now: the station first when the tank is too low for the job, a
 * phantom station visit when one is owed; the job itself waits at the head of the queue.
 */
export function withFuelStop(s: VehicleState, job: Job): Job {
  const capacity = s.setup.spec.tankCapacityLitres;
  // Roads are longer than the straight line, and the figure is for an average drive: a margin both ways.
  const neededLitres = (1.5 * distanceM(s.kin.position, job.place) * s.setup.spec.ratedLitresPer100Km * 1.3) / 100_000;
  const short = s.levelLitres - neededLitres < 0.1 * capacity;
  const low =
    short ||
    (job.purpose !== 'home' && s.levelLitres < REFUEL_BELOW_FRACTION * capacity) ||
    (job.purpose === 'out-of-city' && s.levelLitres < OUT_OF_CITY_MIN_FRACTION * capacity);
  if (low && job.purpose !== 'refuel') {
    s.jobs.unshift(job);
    return { place: nearestPlace(s.kin.position, kupangFuelStations), purpose: 'refuel', dwell: [{ kind: 'refuel' }], work: false };
  }
  if (s.phantomDueS[0]! <= s.tS && s.tS - s.lastRefuelS > 6 * HOUR_S && !CHORES.includes(job.purpose)) {
    s.phantomDueS.shift();
    s.jobs.unshift(job);
    return { place: nearestPlace(s.kin.position, kupangFuelStations), purpose: 'phantom', dwell: [{ kind: 'phantom' }], work: false };
  }
  return job;
}

/** To the brim most of the time; otherwise a round amount of litres or rupiah, as a voucher or a driver's cash allows. */
function refuelLitres(s: VehicleState, priceIdrPerLitre: number): number {
  const capacity = s.setup.spec.tankCapacityLitres;
  const free = capacity - s.levelLitres;
  const fillUp = chance(s.moveRng, 0.65);
  const brim = free * uniform(s.moveRng, 0.96, 1);
  const amounts =
    capacity >= 100
      ? [50, 75, 100, 150]
      : capacity >= 30
        ? [20, 25, 30, 40, 150_000 / priceIdrPerLitre, 200_000 / priceIdrPerLitre, 300_000 / priceIdrPerLitre]
        : [free];
  const amount = pick(s.moveRng, amounts);
  return Math.max(0, Math.min(free, fillUp || capacity < 30 ? brim : amount));
}

/**
 * At the pump: the queue, the fill and paying. With (almost) nothing to fill, the vehicle
 * only queues and leaves: `refuel` is null and it stands until queueUntilS.
 */
export function planRefuel(s: VehicleState, ctx: Context): { refuel: RefuelActivity | null; queueUntilS: number } {
  const station = s.place ?? nearestPlace(s.kin.position, kupangFuelStations);
  const litres = refuelLitres(s, fuelPriceOn(s.setup.fuelType, witaDate(ctx.opts.startMs + s.tS * 1000)));
  const queueS = Math.round(uniform(s.moveRng, 30, 300));
  const payS = Math.round(uniform(s.moveRng, 30, 120));
  const queueUntilS = s.tS + queueS;
  if (litres < 0.5) return { refuel: null, queueUntilS };
  const pumpUntilS = queueUntilS + Math.ceil(litres / s.setup.profile.pumpLitresPerS);
  return {
    refuel: {
      kind: 'refuel',
      untilS: pumpUntilS + payS,
      pumpFromS: queueUntilS,
      pumpUntilS,
      levelBeforeLitres: s.levelLitres,
      litres,
      station,
    },
    queueUntilS,
  };
}

/** The fill is paid: the refuel's record, its receipt (honest or inflated), and the fraud owed later. */
export function finishRefuel(s: VehicleState, ctx: Context, a: RefuelActivity): void {
  recordRefuel(s, ctx, a, a.pumpUntilS, a.litres, false);
  s.lastRefuelS = s.tS;
  const r = s.fraudRng;
  const inflated = chance(r, ctx.opts.fraud.inflated);
  const inflation = uniform(r, 1.15, 1.6);
  const minExtraLitres = s.setup.spec.tankCapacityLitres >= 30 ? 5 : 1;
  // Later, so that the fraud does not sit next to an honest fill: a day or more for a
  // phantom visit, hours for a receipt from elsewhere.
  const phantomAfterS = s.tS + Math.round(uniform(r, 1, 4) * DAY_S);
  const elsewhereAfterS = s.tS + Math.round(uniform(r, 3, 48) * HOUR_S);
  if (chance(r, ctx.opts.fraud.phantom)) s.phantomDueS.push(phantomAfterS);
  if (chance(r, ctx.opts.fraud.elsewhere)) s.elsewhereDueS.push(elsewhereAfterS);
  const claimedLitres = inflated ? Math.max(a.litres * inflation, a.litres + minExtraLitres) : a.litres;
  emitReceipt(s, ctx, a.station, s.tS, claimedLitres, a.litres, inflated ? 'inflated' : null, a.pumpUntilS);
}

/** The phantom visit is over: a receipt for fuel that never went into the tank. */
export function phantomReceipt(s: VehicleState, ctx: Context, station: Place): void {
  const litres = s.setup.spec.tankCapacityLitres * uniform(s.fraudRng, 0.3, 0.7);
  emitReceipt(s, ctx, station, s.tS, litres, 0, 'phantom', null);
}

/** A parked vehicle far from a station, during the working day: a receipt from there says fuel was bought where it was not. */
export function maybeElsewhereReceipt(s: VehicleState, ctx: Context, parkS: number): void {
  if (!(s.elsewhereDueS[0]! <= s.tS) || parkS < 20 * 60) return;
  if (ctx.opts.schedule === 'realistic' && !isDutyTime(s.setup.duty, ctx.opts.startMs + s.tS * 1000)) return;
  const far = kupangFuelStations.filter((st) => distanceM(st, s.kin.position) >= ELSEWHERE_MIN_M);
  if (far.length === 0) return;
  s.elsewhereDueS.shift();
  const station = pick(s.fraudRng, far);
  const atS = s.tS + Math.round(uniform(s.fraudRng, 300, parkS - 300));
  const litres = s.setup.spec.tankCapacityLitres * uniform(s.fraudRng, 0.4, 0.8);
  emitReceipt(s, ctx, station, atS, litres, 0, 'elsewhere', null);
}

function receiptNo(ctx: Context, s: VehicleState, station: Place, atS: number): string {
  const stationNo = fuelStationCode(station);
  const stamp = ctx.iso(atS).replace(/[-:T]/g, '').slice(0, 12);
  s.receipts += 1;
  const tail = stream(ctx.opts.seed, s.setup.plateNumber, 'receipt', s.receipts)();
  return `${stationNo}-${stamp}-${String(Math.floor(tail * 10_000)).padStart(4, '0')}`;
}

function emitReceipt(
  s: VehicleState,
  ctx: Context,
  station: Place,
  atS: number,
  litres: number,
  filledLitres: number,
  fraud: FraudKind | null,
  refuelEndS: number | null,
): void {
  // The price in force on the receipt's day in Kupang (WITA).
  const priceIdrPerLitre = fuelPriceOn(s.setup.fuelType, witaDate(ctx.opts.startMs + atS * 1000));
  const printedLitres = round2(litres);
  emit(s, {
    type: 'receipt',
    ...vehicleRef(s),
    at: ctx.iso(atS),
    litres: printedLitres,
    amountIdr: Math.round(printedLitres * priceIdrPerLitre),
    fuelType: s.setup.fuelType,
    priceIdrPerLitre,
    station: station.name,
    stationCode: fuelStationCode(station),
    lat: station.lat,
    lon: station.lon,
    receiptNo: receiptNo(ctx, s, station, atS),
    fraud,
    filledLitres: round6(filledLitres),
    refuelEndAt: refuelEndS === null ? null : ctx.iso(refuelEndS),
  });
}
