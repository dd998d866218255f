/**
 * Finance's registers: fuel prices (a history never edited), stations, vehicles'
 * allocations (with history) and departments' budgets. Every change is in the audit log,
 * written in the same transaction as the change.
 */
import { ConflictError, NotFoundError } from '../errors.js';
import { localDayOf } from '../domain/report-time.js';
import type { Repositories } from '../repositories/index.js';
import type { Actor } from '../repositories/finance/audit-log.js';
import type { FuelPrice } from '../repositories/finance/prices.js';
import type { VehicleColumnPatch } from '../repositories/finance/allocations.js';
import type { DepartmentScope } from '../repositories/scope.js';

export interface CatalogContext {
  actor: Actor;
  scope: DepartmentScope;
  now: Date;
}

/** The price in force on a local day from a fuel's history (sorted or not): the latest validFrom not after it. */
export function priceOnDay(history: readonly FuelPrice[], fuelType: string, day: string): FuelPrice | undefined {
  let best: FuelPrice | undefined;
  for (const p of history) {
    if (p.fuelType === fuelType && p.validFrom <= day && (!best || p.validFrom > best.validFrom)) best = p;
  }
  return best;
}

export function createCatalog(
  repos: Pick<Repositories, 'prices' | 'stations' | 'allocations' | 'budgets' | 'vehicles' | 'departments'>,
  settings: { reportTz: string },
) {
  const tz = settings.reportTz;
  const monthOf = (now: Date) => localDayOf(tz, now.getTime()).slice(0, 7);
  return {
    currentMonth: monthOf,
    today: (now: Date) => localDayOf(tz, now.getTime()),

    async addPrice(
      input: { fuelType: string; priceIdrPerLitre: number; validFrom: string; source?: string | undefined },
      ctx: CatalogContext,
    ) {
      const result = await repos.prices.add(
        {
          fuelType: input.fuelType,
          priceIdrPerLitre: BigInt(input.priceIdrPerLitre),
          validFrom: input.validFrom,
          source: input.source ?? null,
        },
        ctx.actor,
        ctx.now,
      );
      if (result.outcome === 'not_later') {
        throw new ConflictError(
          `${input.fuelType} already has a price from ${result.latest.validFrom}: the price history is never rewritten, ` +
            'so a new price needs a validFrom after it.',
        );
      }
      if (result.outcome === 'different_same_day') {
        throw new ConflictError(
          `${input.fuelType} already has a different price (Rp ${result.existing.priceIdrPerLitre}) from ${input.validFrom}; ` +
            'prices are never edited: give the correction a later validFrom.',
        );
      }
      return result;
    },
    listPrices: (fuelType?: string) => repos.prices.list({ fuelType }),
    pricesInForceOn: (day: string, fuelType?: string) => repos.prices.inForceOn(day, fuelType),

    async addStation(input: { code: string; name: string; lat: number; lon: number }, ctx: CatalogContext) {
      const { station, created } = await repos.stations.create(input, ctx.actor, ctx.now);
      if (!created && (station.name !== input.name || station.lat !== input.lat || station.lon !== input.lon)) {
        throw new ConflictError(`Station ${input.code} is already registered as "${station.name}" at ${station.lat}, ${station.lon}.`);
      }
      return { station, created };
    },

    async setAllocation(vehicleId: string, input: { litresMl: bigint; fromMonth: string }, ctx: CatalogContext) {
      const vehicle = await repos.vehicles.findById(ctx.scope, vehicleId);
      if (!vehicle) throw new NotFoundError('Vehicle');
      return repos.allocations.set(vehicle, input.litresMl, input.fromMonth, {
        actor: ctx.actor,
        at: ctx.now,
        currentMonth: monthOf(ctx.now),
        tz,
      });
    },
    async listAllocations(vehicleId: string, scope: DepartmentScope) {
      const vehicle = await repos.vehicles.findById(scope, vehicleId);
      if (!vehicle) throw new NotFoundError('Vehicle');
      return { vehicle, allocations: await repos.allocations.list(vehicle.id) };
    },
    /** Registers a vehicle; its monthly allocation becomes its first (from the current month, applying from the beginning). */
    async createVehicle(input: Parameters<Repositories['allocations']['createVehicle']>[0], ctx: CatalogContext) {
      const id = await repos.allocations.createVehicle(input, { actor: ctx.actor, at: ctx.now, currentMonth: monthOf(ctx.now) });
      return (await repos.vehicles.findById({ departmentId: null }, id))!;
    },
    /** A vehicle change: the audited fields and the allocation in one transaction with the audit log. */
    async patchVehicle(vehicleId: string, patch: VehicleColumnPatch, allocationLitresMl: bigint | undefined, ctx: CatalogContext) {
      const ok = await repos.allocations.patchVehicle(vehicleId, patch, allocationLitresMl, {
        actor: ctx.actor,
        at: ctx.now,
        currentMonth: monthOf(ctx.now),
        tz,
      });
      if (!ok) throw new NotFoundError('Vehicle');
      return (await repos.vehicles.findById({ departmentId: null }, vehicleId))!;
    },

    async setBudget(departmentId: string, year: number, amountIdr: bigint, ctx: CatalogContext) {
      if (ctx.scope.departmentId && ctx.scope.departmentId !== departmentId) throw new NotFoundError('Department');
      if (!(await repos.departments.findById(departmentId))) throw new NotFoundError('Department');
      return repos.budgets.set(departmentId, year, amountIdr, ctx.actor, ctx.now);
    },
  };
}
export type Catalog = ReturnType<typeof createCatalog>;
