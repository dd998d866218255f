/**
 * The day's schedule: what a vehicle does next when it has nothing on hand, from its duty
 * (office, shift, garbage, bus), the WITA clock and the day's plan — the working window,
 * an evening's private trip, an official trip out of the city — drawn once per vehicle
 * and day from a stream named after both, so that a day's plan does not depend on the
 * days before it.
 */
import { DAY_MS, WITA_OFFSET_MS, witaDayIndex, witaDayStartMs, witaWeekday, workWindowMin } from '../calendar.js';
import { distanceM, kupangCollectionPoints, kupangDestinations, outOfCityPlaces, placeByName, type Place } from '../kupang.js';
import { chance, exponential, logUniform, mulberry32, pick, stream, uniform, uniformInt } from '../random.js';
import { atHome, idleFor, parkFor, type Context, type DayPlan, type Job, type Segment, type VehicleState } from './state.js';
import { HOUR_S } from './units.js';

/** Errands go at least this far when a destination that far exists. */
const MIN_TRIP_M = 1500;

const BUS_ROUTE = [
  'Terminal Kota Lama',
  'Pasar Oeba',
  'Kantor Gubernur NTT',
  'Pasar Oebobo',
  'Lippo Plaza Kupang',
  'Universitas Nusa Cendana',
];

/** What to do next: leave for a job, or park until a time. */
export type Decision = { job: Job } | { parkUntilS: number };

function dayPlan(s: VehicleState, ctx: Context, dayIndex: number): DayPlan {
  const cached = s.plans.get(dayIndex);
  if (cached) return cached;
  const { opts } = ctx;
  const rng = stream(opts.seed, s.setup.plateNumber, 'day', dayIndex);
  const dayStartS = (witaDayStartMs(dayIndex) - opts.startMs) / 1000;
  const u = Array.from({ length: 10 }, () => rng());
  const window = workWindowMin(s.setup.duty, witaWeekday(dayIndex), u[0]!, u[1]!);
  const isOffice = s.setup.duty === 'office';
  const realistic = opts.schedule === 'realistic';
  const privateTrip =
    realistic && isOffice && u[2]! < opts.afterHoursRatePerDay
      ? {
          atS: dayStartS + Math.round((18.5 + 3 * u[3]!) * HOUR_S),
          place:
            u[4]! < 0.3
              ? pick(mulberry32(Math.floor(u[5]! * 2 ** 32)), outOfCityPlaces)
              : pick(mulberry32(Math.floor(u[5]! * 2 ** 32)), kupangDestinations),
          stayS: Math.round(uniform(mulberry32(Math.floor(u[6]! * 2 ** 32)), 45, 180) * 60),
          done: false,
        }
      : null;
  const outOfCity =
    realistic && isOffice && window && u[7]! < opts.outOfCityRatePerDay
      ? { place: pick(mulberry32(Math.floor(u[8]! * 2 ** 32)), outOfCityPlaces), stayS: Math.round((30 + 60 * u[9]!) * 60), done: false }
      : null;
  const plan: DayPlan = {
    window: window ? { fromS: dayStartS + Math.round(window.fromMin * 60), toS: dayStartS + Math.round(window.toMin * 60) } : null,
    privateTrip,
    outOfCity,
  };
  s.plans.set(dayIndex, plan);
  for (const old of s.plans.keys()) if (old < dayIndex - 2) s.plans.delete(old);
  return plan;
}

function destinationFrom(s: VehicleState, places: readonly Place[]): Place {
  const far = places.filter((p) => distanceM(p, s.kin.position) >= MIN_TRIP_M);
  return pick(s.moveRng, far.length > 0 ? far : places);
}

/** An errand anywhere in the city, at any hour (always-on mode). */
export function roamingJob(s: VehicleState): Job {
  const dwell: Segment[] = [];
  if (chance(s.moveRng, 0.4)) dwell.push(idleFor(uniform(s.moveRng, 20, 90)));
  dwell.push(parkFor(chance(s.moveRng, 0.7) ? uniform(s.moveRng, 180, 1200) : uniform(s.moveRng, 1200, 3600)));
  return { place: destinationFrom(s, kupangDestinations), purpose: 'errand', dwell, work: true };
}

/** The next piece of the working day, by duty, to be done before untilS. */
function workJobs(s: VehicleState, plan: DayPlan, untilS: number): Job[] {
  const r = s.moveRng;
  const cap = (durationS: number) => Math.max(60, Math.min(durationS, untilS - s.tS));
  switch (s.setup.duty) {
    case 'office': {
      const trip = plan.outOfCity;
      if (trip && !trip.done && untilS - s.tS > 3 * HOUR_S) {
        trip.done = true;
        return [{ place: trip.place, purpose: 'out-of-city', dwell: [parkFor(trip.stayS)], work: true }];
      }
      if (!atHome(s) && chance(r, 0.35))
        return [{ place: s.setup.home, purpose: 'errand', dwell: [parkFor(cap(logUniform(r, 20 * 60, 150 * 60)))], work: true }];
      const dwell: Segment[] = chance(r, 0.4) ? [idleFor(uniform(r, 20, 90))] : [];
      dwell.push(parkFor(cap(logUniform(r, 10 * 60, 100 * 60))));
      return [{ place: destinationFrom(s, kupangDestinations), purpose: 'errand', dwell, work: true }];
    }
    case 'garbage': {
      if (untilS - s.tS < 90 * 60) return [];
      const truck = s.setup.kind !== 'motorcycle';
      const jobs: Job[] = [];
      const n = truck ? uniformInt(r, 3, 6) : uniformInt(r, 4, 8);
      for (let i = 0; i < n; i++) {
        const dwell = truck ? [idleFor(uniform(r, 240, 720))] : [parkFor(uniform(r, 120, 480))];
        jobs.push({ place: pick(r, kupangCollectionPoints), purpose: 'collection', dwell, work: true });
      }
      const landfill = placeByName('TPA Alak')!;
      if (truck)
        jobs.push({
          place: landfill,
          purpose: 'landfill',
          dwell: [idleFor(uniform(r, 120, 300)), parkFor(uniform(r, 300, 900))],
          work: true,
        });
      else jobs.push({ place: s.setup.home, purpose: 'errand', dwell: [parkFor(uniform(r, 600, 1200))], work: true });
      return jobs;
    }
    case 'bus': {
      if (untilS - s.tS < 45 * 60) return [];
      const stops = [...BUS_ROUTE.slice(1), ...BUS_ROUTE.slice(0, -1).reverse()].map((name) => placeByName(name)!);
      return stops.map((place, i) => {
        const terminal = i === stops.length - 1;
        return {
          place,
          purpose: 'bus-stop' as const,
          dwell: terminal ? [idleFor(uniform(r, 30, 90)), parkFor(uniform(r, 600, 1200))] : [idleFor(uniform(r, 30, 120))],
          work: true,
        };
      });
    }
    case 'shift':
      return [];
  }
}

function homeJob(s: VehicleState): Job {
  return { place: s.setup.home, purpose: 'home', dwell: chance(s.moveRng, 0.4) ? [idleFor(uniform(s.moveRng, 20, 90))] : [], work: false };
}

/** The second of the next call-out after fromS, for a vehicle on shift duty. */
export function nextCallFrom(s: VehicleState, ctx: Context, fromS: number): number {
  // Call-outs: about 0.3 an hour by day, 0.1 at night (thinning of a 0.3/h process).
  let t = fromS;
  for (;;) {
    t += Math.max(60, Math.round(exponential(s.callsRng, 0.3 / HOUR_S)));
    const witaHour = ((ctx.opts.startMs + t * 1000 + WITA_OFFSET_MS) % DAY_MS) / (HOUR_S * 1000);
    const ratePerHour = witaHour >= 7 && witaHour < 22 ? 0.3 : 0.1;
    if (s.callsRng() < ratePerHour / 0.3) return t;
  }
}

/** What a vehicle with nothing left to do where it is does next. */
export function decideNext(s: VehicleState, ctx: Context): Decision {
  const t = s.tS;
  const realistic = ctx.opts.schedule === 'realistic';
  const dayIndex = witaDayIndex(ctx.opts.startMs + t * 1000);
  const plan = dayPlan(s, ctx, dayIndex);
  const window = plan.window;
  const inWindow = window !== null && t >= window.fromS && t < window.toS;

  if (s.jobs.length > 0) {
    if (realistic && s.setup.duty !== 'shift' && !inWindow && s.jobs[0]!.work) s.jobs = [];
    else return { job: s.jobs.shift()! };
  }
  if (!realistic) return { job: roamingJob(s) };

  const evening = plan.privateTrip;
  if (evening && !evening.done && t >= evening.atS) {
    evening.done = true;
    s.jobs.push(homeJob(s));
    return { job: { place: evening.place, purpose: 'private', dwell: [parkFor(evening.stayS)], work: false } };
  }

  if (s.setup.duty === 'shift') {
    if (t >= s.nextCallS) {
      s.nextCallS = nextCallFrom(s, ctx, t);
      s.jobs.push(homeJob(s));
      const dwell = [idleFor(uniform(s.moveRng, 300, 900)), parkFor(uniform(s.moveRng, 300, 1800))];
      return { job: { place: destinationFrom(s, kupangDestinations), purpose: 'call-out', dwell, work: true } };
    }
    if (!atHome(s)) return { job: homeJob(s) };
    return { parkUntilS: s.nextCallS };
  }

  if (inWindow && t < window.toS - 15 * 60) {
    s.jobs = workJobs(s, plan, window.toS);
    if (s.jobs.length > 0) return { job: s.jobs.shift()! };
  }
  if (!atHome(s)) return { job: homeJob(s) };
  // At home with nothing to do: wait for the working day, the evening's trip or midnight.
  const dayEndS = (witaDayStartMs(dayIndex + 1) - ctx.opts.startMs) / 1000;
  let wakeS = dayEndS;
  if (inWindow) wakeS = Math.min(wakeS, window.toS);
  else if (window && t < window.fromS) wakeS = Math.min(wakeS, window.fromS);
  if (evening && !evening.done && evening.atS > t) wakeS = Math.min(wakeS, evening.atS);
  return { parkUntilS: wakeS };
}
