/**
 * Fuel-card statements (CSV) into the ledger. Each row is checked like a posted purchase;
 * a row without a receipt number is refused (without one, importing the file again could
 * not tell the row was already in). Rows go through the same idempotency rules as
 * POST /fuel-purchases, so importing the same file twice adds nothing. Times without an
 * offset are local (REPORT_TZ, WITA in Kupang).
 *
 * All rows are written in one ledger transaction: with `atomic`, any bad row leaves the
 * ledger untouched; a dry run goes through the very same steps and rolls back, so what it
 * reports is exactly what an import would do.
 */
import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { BadRequestError } from '../errors.js';
import { tzOffsetMs } from '../domain/report-time.js';
import type { Repositories } from '../repositories/index.js';
import type { Actor } from '../repositories/finance/audit-log.js';
import type { EntryFlag } from '../repositories/finance/purchases.js';
import type { DepartmentScope } from '../repositories/scope.js';
import type { FieldProblem, Ledger, PurchaseInput } from './ledger.js';

export const STATEMENT_COLUMNS = [
  'plateNumber',
  'vehicleId',
  'at',
  'litres',
  'amountIdr',
  'fuelType',
  'station',
  'lat',
  'lon',
  'receiptNo',
  'odometerKm',
  'voucherCode',
] as const;
const REQUIRED = ['at', 'litres', 'amountIdr', 'fuelType', 'receiptNo'] as const;
export const MAX_STATEMENT_ROWS = 10_000;

export type RowStatus = 'created' | 'existing' | 'invalid' | 'would_create' | 'not_written';

export interface RowResult {
  /** The line of the file the row ends on (the header is line 1). */
  line: number;
  status: RowStatus;
  receiptNo: string | null;
  entryId?: string;
  seq?: number;
  entryFlags?: EntryFlag[];
  errors?: FieldProblem[];
}

export interface ImportResult {
  dryRun: boolean;
  atomic: boolean;
  /** Whether anything was written to the ledger. */
  written: boolean;
  fileSha256: string;
  summary: { rows: number; created: number; existing: number; invalid: number };
  rows: RowResult[];
}

/** `2026-11-14 09:30`, `2026-11-14T09:30:05` (local) or ISO 8601 with an offset. */
const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;

/** A statement time as an ISO instant; without an offset it is a wall-clock time in `tz`. */
export function statementTime(text: string, tz: string): string | undefined {
  const t = text.trim();
  const m = LOCAL_TIME.exec(t);
  if (m) {
    const [, y, mo, d, h, mi, s, ms] = m;
    const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), Number((ms ?? '0').padEnd(3, '0')));
    // Twice, so a time next to an offset change lands right (Makassar has none).
    let instant = wall - tzOffsetMs(tz, wall);
    instant = wall - tzOffsetMs(tz, instant);
    const check = new Date(wall);
    if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return undefined;
    return new Date(instant).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(t) && !Number.isNaN(Date.parse(t)))
    return new Date(Date.parse(t)).toISOString();
  return undefined;
}

/** Rupiah as statements write them: `354200`, `354.200` (Indonesian grouping) or `Rp 354.200`. */
function statementRupiah(text: string): number | undefined {
  const t = text.replace(/^Rp\.?\s*/i, '').trim();
  if (/^\d+$/.test(t)) return Number(t);
  if (/^\d{1,3}(\.\d{3})+$/.test(t)) return Number(t.replaceAll('.', ''));
  return undefined;
}

/** Litres: `35.42`, or `35,42` (a decimal comma, quoted in the CSV). */
const statementLitres = (text: string): string => (/^\d+,\d{1,3}$/.test(text.trim()) ? text.trim().replace(',', '.') : text.trim());

const normalisePlate = (p: string) => p.trim().toUpperCase().replace(/\s+/g, ' ');

class RollBack extends Error {}

export function createStatementImport(repos: Pick<Repositories, 'purchases' | 'vehicles'>, ledger: Ledger) {
  return {
    async importCsv(
      csv: string,
      options: { dryRun: boolean; atomic: boolean },
      ctx: { actor: Actor; scope: DepartmentScope; now: Date },
    ): Promise<ImportResult> {
      const tz = ledger.settings.reportTz;
      const fileSha256 = createHash('sha256').update(csv).digest('hex');
      let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
      try {
        records = parse(csv, {
          columns: (header: string[]) => header.map((h) => h.trim()),
          info: true,
          bom: true,
          skip_empty_lines: true,
          trim: true,
        }) as never;
      } catch (err) {
        throw new BadRequestError(`body: the statement is not readable CSV: ${(err as Error).message}`);
      }
      if (records.length === 0) throw new BadRequestError('body: the statement has no rows (the first line names the columns)');
      if (records.length > MAX_STATEMENT_ROWS)
        throw new BadRequestError(`body: at most ${MAX_STATEMENT_ROWS} rows in one statement; split it`);
      const columns = Object.keys(records[0]!.record);
      const missing = REQUIRED.filter((c) => !columns.includes(c));
      if (!columns.includes('plateNumber') && !columns.includes('vehicleId')) missing.unshift('plateNumber' as never);
      if (missing.length > 0) {
        throw new BadRequestError(
          `body: the statement lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
            `(columns: ${STATEMENT_COLUMNS.join(', ')})`,
        );
      }
      const unknown = columns.filter((c) => !(STATEMENT_COLUMNS as readonly string[]).includes(c));
      if (unknown.length > 0)
        throw new BadRequestError(
          `body: unknown column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (columns: ${STATEMENT_COLUMNS.join(', ')})`,
        );

      const byPlate = new Map((await repos.vehicles.list(ctx.scope)).map((v) => [normalisePlate(v.plateNumber), v]));
      const rows: RowResult[] = [];
      const valid: Array<{ index: number; checked: NonNullable<Awaited<ReturnType<Ledger['check']>>['checked']> }> = [];
      for (const { record: r, info } of records) {
        const errors: FieldProblem[] = [];
        const get = (c: string) => (r[c] ?? '').trim();
        const receiptNo = get('receiptNo') || null;
        if (!receiptNo)
          errors.push({ field: 'receiptNo', message: 'required in a statement, so that importing it again cannot add the row twice' });
        let vehicleId = get('vehicleId');
        if (!vehicleId) {
          const plate = get('plateNumber');
          const v = plate ? byPlate.get(normalisePlate(plate)) : undefined;
          if (!v) errors.push({ field: 'plateNumber', message: plate ? `no vehicle with plate ${plate}` : 'required (or vehicleId)' });
          else vehicleId = v.id;
        }
        const at = statementTime(get('at'), tz);
        if (!at) errors.push({ field: 'at', message: `"${get('at')}" is not a time (2026-11-14 09:30 local, or ISO 8601 with an offset)` });
        const amountIdr = statementRupiah(get('amountIdr'));
        if (amountIdr === undefined) errors.push({ field: 'amountIdr', message: `"${get('amountIdr')}" is not a whole number of rupiah` });
        const optionalNumber = (c: string) => {
          const text = get(c);
          if (!text) return null;
          const n = Number(text);
          if (!Number.isFinite(n)) errors.push({ field: c, message: `"${text}" is not a number` });
          return Number.isFinite(n) ? n : null;
        };
        const input: PurchaseInput = {
          vehicleId,
          at: at ?? '',
          litres: statementLitres(get('litres')),
          amountIdr: amountIdr ?? 0,
          fuelType: get('fuelType').toLowerCase(),
          station: get('station') || null,
          lat: optionalNumber('lat'),
          lon: optionalNumber('lon'),
          receiptNo,
          odometerKm: optionalNumber('odometerKm'),
          voucherCode: get('voucherCode') || null,
        };
        if (vehicleId && at && amountIdr !== undefined) {
          const { checked, problems, notFound } = await ledger.check(input, { ...ctx, fieldPrefix: '' });
          if (notFound) errors.push({ field: columns.includes('vehicleId') ? 'vehicleId' : 'plateNumber', message: 'vehicle not found' });
          for (const p of problems) if (!errors.some((e) => e.field === p.field)) errors.push(p);
          if (checked && errors.length === 0) valid.push({ index: rows.length, checked });
        } else {
          // Still report every other field's problem on the row.
          const { problems } = await ledger.check({ ...input, at: at ?? ctx.now.toISOString() }, { ...ctx, fieldPrefix: '' });
          for (const p of problems) if (!errors.some((e) => e.field === p.field)) errors.push(p);
        }
        rows.push({
          line: info.lines,
          status: errors.length ? 'invalid' : 'would_create',
          receiptNo,
          ...(errors.length ? { errors } : {}),
        });
      }
      const invalid = rows.filter((r) => r.status === 'invalid').length;
      const holdBack = options.dryRun || (options.atomic && invalid > 0);
      const writeCtx = { actor: ctx.actor, scope: ctx.scope, now: ctx.now, source: 'import' as const, fieldPrefix: '' };
      try {
        await repos.purchases.inLedger(async (l) => {
          // Entries made by this import: in a dry run they are rolled back, so their ids mean nothing.
          const madeHere = new Set<string>();
          for (const { index, checked } of valid) {
            const { entry, outcome } = await ledger.appendChecked(l, checked, writeCtx);
            if (outcome === 'created') madeHere.add(entry.id);
            rows[index] = {
              ...rows[index]!,
              status: outcome === 'existing' ? 'existing' : holdBack ? (options.dryRun ? 'would_create' : 'not_written') : 'created',
              ...(holdBack && madeHere.has(entry.id) ? {} : { entryId: entry.id, seq: entry.seq }),
              entryFlags: [...entry.entryFlags],
            };
          }
          const count = (s: RowStatus) => rows.filter((r) => r.status === s).length;
          await l.audit(
            ctx.actor,
            {
              action: 'fuel_purchase.import',
              entity: 'fuel_statement',
              entityId: fileSha256,
              departmentId: ctx.scope.departmentId,
              before: null,
              after: { rows: rows.length, created: count('created'), existing: count('existing'), invalid, atomic: options.atomic },
            },
            ctx.now,
          );
          if (holdBack) throw new RollBack();
        });
      } catch (err) {
        if (!(err instanceof RollBack)) throw err;
      }
      if (!options.dryRun && holdBack) for (const r of rows) if (r.status === 'would_create') r.status = 'not_written';
      const count = (s: RowStatus) => rows.filter((r) => r.status === s).length;
      return {
        dryRun: options.dryRun,
        atomic: options.atomic,
        written: !holdBack && count('created') > 0,
        fileSha256,
        summary: { rows: rows.length, created: count('created'), existing: count('existing'), invalid },
        rows,
      };
    },
  };
}
export type StatementImport = ReturnType<typeof createStatementImport>;
