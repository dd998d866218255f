/**
 * The alert engine, run beside the ingest worker: it judges every committed batch with
 * the rules in src/domain/alerts.ts, stores the alerts it raises, and announces each on
 * `fleet/v1/live/{departmentId}/{vehicleId}/alerts`, where the API instances pick it up
 * for their live-feed clients. A periodic check reports devices gone silent and the fuel
 * drains the rollup job has found.
 *
 * The vehicles' alert state lives in this process: after a restart an episode that was
 * already open may be reported once more. Batches are judged one after the other, so
 * alerts of a vehicle are raised in order.
 */
import type { Logger } from 'pino';
import { evaluateReading, freshAlertState, type AlertCandidate, type AlertRules, type VehicleAlertState } from '../domain/alerts.js';
import { alertTopic } from '../domain/topics.js';
import { KUPANG_CITY_BOUNDARY } from '../domain/geofence.js';
import type { WorkingHours } from '../domain/report-time.js';
import type { AlertRow } from '../repositories/alerts.js';
import type { Repositories } from '../repositories/index.js';
import { ALL_DEPARTMENTS } from '../repositories/scope.js';
import type { BoundReading } from '../domain/ingest-types.js';

export interface AlertEngineOptions {
  repos: Pick<Repositories, 'alerts' | 'geofences' | 'vehicles' | 'alertRules'>;
  rules: Omit<AlertRules, 'geofences'>;
  /** Announces a stored alert (to the live topics). */
  publish: (topic: string, payload: string) => void;
  logger: Logger;
  /** A vehicle none of whose active devices has sent anything for this long is reported silent. */
  silentAfterS: number;
  checkEveryMs?: number;
  now?: () => number;
}

/** The view of an alert that the API and the live feed show. */
export function alertView(a: AlertRow) {
  return {
    id: a.id,
    kind: a.kind,
    vehicleId: a.vehicleId,
    plateNumber: a.plateNumber,
    departmentId: a.departmentId,
    at: a.at.toISOString(),
    lat: a.lat,
    lon: a.lon,
    message: a.message,
    details: a.details,
    acknowledgedAt: a.acknowledgedAt ? a.acknowledgedAt.toISOString() : null,
    acknowledgedNote: a.acknowledgedNote,
  };
}

/** The city boundary is there from the first start; the API can replace or remove it. */
export async function ensureDefaultGeofence(repos: Pick<Repositories, 'geofences'>): Promise<void> {
  if ((await repos.geofences.count()) === 0) {
    await repos.geofences.create({ name: 'Kota Kupang', departmentId: null, geometry: KUPANG_CITY_BOUNDARY });
  }
}

/** What the engine keeps of a vehicle, refreshed every REFRESH_MS. */
interface CachedVehicle {
  plateNumber: string;
  speedLimitKmh: number | null;
  outsideHoursExempt: boolean;
  departmentId: string;
  loadedAtMs: number;
}

export function createAlertEngine(options: AlertEngineOptions) {
  const { repos, logger } = options;
  const now = options.now ?? Date.now;
  const states = new Map<string, VehicleAlertState>();
  const vehicles = new Map<string, CachedVehicle>();
  let fences: AlertRules['geofences'] = [];
  let fencesLoadedAtMs = 0;
  let queue: Promise<void> = Promise.resolve();
  const REFRESH_MS = 30_000;
  /** Batches handed over and not yet judged; above MAX_BACKLOG, onCommitted makes ingest wait. */
  let backlog = 0;
  const MAX_BACKLOG = 8;
  const drained: Array<() => void> = [];

  /** Each geofence's shape as last loaded, to see which ones a reload changed. */
  let fenceShapes = new Map<string, string>();
  /** Departments with their own working hours (the fleet's holidays still apply), reloaded with the geofences. */
  let departmentHours = new Map<string, WorkingHours>();

  async function rules(): Promise<AlertRules> {
    if (now() - fencesLoadedAtMs > REFRESH_MS) {
      const loaded = (await repos.geofences.all()).map((g) => ({
        id: g.id,
        name: g.name,
        geometry: g.geometry,
        departmentId: g.departmentId,
      }));
      const shapes = new Map(loaded.map((g) => [g.id, JSON.stringify(g.geometry)]));
      // A fence whose shape changed (or that is gone) starts afresh for every vehicle: the
      // next fix says where the vehicle is, and being outside the new shape is not "leaving".
      const changed = [...fenceShapes].filter(([id, shape]) => shapes.get(id) !== shape).map(([id]) => id);
      if (changed.length > 0) for (const state of states.values()) for (const id of changed) state.inside.delete(id);
      fences = loaded;
      fenceShapes = shapes;
      const holidays = options.rules.workingHours.holidays;
      const own = await repos.alertRules.all();
      departmentHours = new Map(
        own.map((r) => {
          const hours: WorkingHours = { weekdays: r.weekdays, startMin: r.startMin, endMin: r.endMin, ...(holidays ? { holidays } : {}) };
          return [r.departmentId, hours] as const;
        }),
      );
      fencesLoadedAtMs = now();
    }
    return { ...options.rules, geofences: fences };
  }

  const fresh = (v: CachedVehicle | undefined): v is CachedVehicle => v !== undefined && now() - v.loadedAtMs < REFRESH_MS;

  /** Loads the vehicles of a batch that are not cached (or whose entry is stale), in one pass. */
  async function loadVehicles(ids: Iterable<string>): Promise<void> {
    const missing = [...ids].filter((id) => !fresh(vehicles.get(id)));
    if (missing.length === 0) return;
    const loadedAtMs = now();
    type Row = { id: string; plateNumber: string; speedLimitKmh: number | null; departmentId: string; outsideHoursExempt: boolean };
    const remember = (v: Row) =>
      vehicles.set(v.id, {
        plateNumber: v.plateNumber,
        speedLimitKmh: v.speedLimitKmh,
        outsideHoursExempt: v.outsideHoursExempt,
        departmentId: v.departmentId,
        loadedAtMs,
      });
    // Many at once (a start, or the refresh of a whole fleet): one query for all of them.
    if (missing.length > 20) {
      for (const v of await repos.vehicles.list(ALL_DEPARTMENTS)) remember(v);
      return;
    }
    for (const id of missing) {
      const v = await repos.vehicles.findById(ALL_DEPARTMENTS, id);
      if (v) remember(v);
      else vehicles.delete(id);
    }
  }

  async function store(candidates: AlertCandidate[]): Promise<void> {
    if (candidates.length === 0) return;
    const stored = await repos.alerts.insertMany(candidates);
    for (const a of stored) options.publish(alertTopic(a.departmentId, a.vehicleId), JSON.stringify(alertView(a)));
  }

  async function judge(readings: readonly BoundReading[]): Promise<void> {
    const current = await rules();
    await loadVehicles(new Set(readings.map((r) => r.vehicleId)));
    const sorted = [...readings].sort((a, b) => a.fixAtMs - b.fixAtMs);
    // A department's own geofences apply to its vehicles only: one rule set per department.
    const perDepartment = new Map<string, AlertRules>();
    const raised: AlertCandidate[] = [];
    for (const r of sorted) {
      const v = vehicles.get(r.vehicleId);
      if (!v) continue;
      let state = states.get(r.vehicleId);
      if (!state) states.set(r.vehicleId, (state = freshAlertState()));
      let applicable = perDepartment.get(r.departmentId);
      if (!applicable) {
        applicable = {
          ...current,
          workingHours: departmentHours.get(r.departmentId) ?? current.workingHours,
          geofences: current.geofences.filter((g) => !g.departmentId || g.departmentId === r.departmentId),
        };
        perDepartment.set(r.departmentId, applicable);
      }
      const started = evaluateReading(
        state,
        {
          vehicleId: r.vehicleId,
          departmentId: r.departmentId,
          plateNumber: v.plateNumber,
          speedLimitKmh: v.speedLimitKmh,
          outsideHoursExempt: v.outsideHoursExempt,
        },
        r,
        applicable,
      );
      for (const a of started) raised.push(a);
    }
    await store(raised);
  }

  async function checkSilent(): Promise<void> {
    const silent = await repos.alerts.newlySilent(now(), options.silentAfterS);
    await store(
      silent.map((s) => ({
        kind: 'device_silent' as const,
        vehicleId: s.vehicleId,
        departmentId: s.departmentId,
        atMs: now(),
        lat: s.lat,
        lon: s.lon,
        message: s.lastSeenAt
          ? `${s.plateNumber} has delivered no usable reading since ${s.lastSeenAt.toISOString()}`
          : `${s.plateNumber} has delivered no usable reading since its tracker was registered at ${s.registeredAt.toISOString()}`,
        details: {
          lastSeenAt: s.lastSeenAt?.toISOString() ?? null,
          lastFixAt: s.fixAt?.toISOString() ?? null,
          registeredAt: s.registeredAt.toISOString(),
          silentAfterS: options.silentAfterS,
        },
      })),
    );
  }

  /** Drains are found by the rollup job (they need the smoothed level around them): alert on the new ones. */
  async function checkDrains(): Promise<void> {
    const drains = await repos.alerts.uncoveredDrains(now(), 7);
    await store(
      drains.map((d) => ({
        kind: 'fuel_drain' as const,
        vehicleId: d.vehicleId,
        departmentId: d.departmentId,
        atMs: d.at.getTime(),
        lat: d.lat,
        lon: d.lon,
        message: `${d.plateNumber}: ${d.litres.toFixed(1)} L drained${d.moving ? ' while moving' : ''}`,
        details: { litres: d.litres, moving: d.moving },
      })),
    );
  }

  async function periodic(): Promise<void> {
    await checkSilent();
    await checkDrains();
  }

  const timer = setInterval(() => {
    queue = queue.then(periodic).catch((err: Error) => logger.warn({ err: err.message }, 'periodic alert check failed'));
  }, options.checkEveryMs ?? 60_000);
  timer.unref();

  return {
    /**
     * Judges a committed batch, after the batches before it (never rejects). It does not
     * hold up ingest: the promise resolves at once while fewer than MAX_BACKLOG batches
     * wait to be judged, and only when the backlog has drained below that otherwise, so a
     * slow alert store slows intake instead of piling readings up in memory.
     */
    onCommitted(readings: readonly BoundReading[]): Promise<void> {
      if (readings.length === 0) return Promise.resolve();
      backlog++;
      queue = queue
        .then(() => judge(readings))
        .catch((err: Error) => logger.warn({ err: err.message }, 'alert evaluation failed'))
        .finally(() => {
          backlog--;
          if (backlog < MAX_BACKLOG) drained.splice(0).forEach((wake) => wake());
        });
      if (backlog < MAX_BACKLOG) return Promise.resolve();
      return new Promise((resolve) => drained.push(resolve));
    },
    /** The periodic checks (silent devices, new drains) now, after what is queued. */
    checkPeriodic(): Promise<void> {
      const run = queue.then(periodic);
      queue = run.catch((err: Error) => logger.warn({ err: err.message }, 'periodic alert check failed'));
      return run;
    },
    /** Geofences were created, changed or removed here: the next batch is judged with them. */
    geofencesChanged(): void {
      fencesLoadedAtMs = 0;
    },
    /** A department's working hours or exempt vehicles changed here: the next batch is judged with them. */
    alertRulesChanged(): void {
      fencesLoadedAtMs = 0;
      vehicles.clear();
    },
    /** Resolves when everything handed over so far has been judged. */
    idle: () => queue,
    async stop(): Promise<void> {
      clearInterval(timer);
      await queue.catch(() => undefined);
    },
  };
}
export type AlertEngine = ReturnType<typeof createAlertEngine>;
