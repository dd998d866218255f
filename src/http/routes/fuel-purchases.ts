/**
 * The purchase ledger: record purchases (one at a time or from a fuel-card statement),
 * void them, list them, and verify the hash chain. Finance and admin write; everyone
 * reads within their department; the chain check is for keys without a department.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BadRequestError, ForbiddenError, NotFoundError } from '../../errors.js';
import { litresNumber, rupiahNumber } from '../../domain/finance/money.js';
import { addDays, dayStartMs } from '../../domain/report-time.js';
import { actorOf } from '../../finance/audit.js';
import { LITRE_FUEL_TYPES } from '../../finance/ledger.js';
import type { LedgerEntry } from '../../repositories/finance/purchases.js';
import { requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { errorResponse, idParams } from '../schemas.js';

/** Roles that write the ledger and the finance registers. */
export const FINANCE_WRITERS = ['admin', 'finance'] as const;

const PLAIN_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A period bound: ISO 8601 with a zone, or a plain local date (a plain `to` includes that whole day). */
export const periodBound = z.string().refine((v) => PLAIN_DATE.test(v) || z.iso.datetime({ offset: true }).safeParse(v).success, {
  message: 'an ISO 8601 time with a zone, or a plain date YYYY-MM-DD',
});

export function boundMs(value: string | undefined, tz: string, side: 'from' | 'to'): number | undefined {
  if (value === undefined) return undefined;
  if (PLAIN_DATE.test(value)) return dayStartMs(tz, side === 'from' ? value : addDays(value, 1));
  return Date.parse(value);
}

export const purchaseBody = z.object({
  vehicleId: z.uuid().describe('The vehicle that was fuelled'),
  at: z.iso.datetime({ offset: true }).describe('When fuel was bought (ISO 8601 with a zone); not in the future'),
  litres: z
    .union([z.number(), z.string()])
    .describe('Litres bought, more than 0, at most three decimals (a number, or decimal text such as "35.42")'),
  amountIdr: z.number().describe('What was paid, in whole rupiah (0 or more)'),
  fuelType: z.enum(LITRE_FUEL_TYPES).describe('The fuel bought'),
  station: z.string().trim().min(1).max(40).optional().describe('The station (SPBU) code from the register, e.g. 54.851.01'),
  lat: z.number().min(-90).max(90).optional().describe("Where it was bought, if the receipt says (else the station's position is used)"),
  lon: z.number().min(-180).max(180).optional(),
  receiptNo: z.string().trim().min(1).max(80).optional().describe('The receipt (struk) number: the same receipt posted twice is one entry'),
  odometerKm: z.number().min(0).max(10_000_000).optional().describe('The odometer written on the receipt'),
  voucherCode: z.string().trim().min(1).max(40).optional().describe('The fuel voucher this purchase redeems'),
});

const flag = z.object({ kind: z.string(), detail: z.string() });

export const purchaseEntry = z.object({
  id: z.uuid(),
  seq: z.number().int().describe("The entry's place in the ledger's hash chain"),
  kind: z.enum(['purchase', 'void']),
  voidsId: z.uuid().nullable().describe('For a void: the purchase it cancels'),
  reason: z.string().nullable().describe('For a void: why'),
  vehicleId: z.uuid(),
  plateNumber: z.string(),
  departmentId: z.uuid(),
  at: z.string().describe('When fuel was bought (UTC)'),
  litres: z.number(),
  amountIdr: z.number().int(),
  fuelType: z.string(),
  station: z.string().nullable(),
  lat: z.number().nullable().describe('As the receipt says (null: it does not)'),
  lon: z.number().nullable(),
  position: z
    .object({ lat: z.number(), lon: z.number(), source: z.enum(['receipt', 'station']) })
    .nullable()
    .describe("Where it was bought: the receipt's position, or the station register's"),
  receiptNo: z.string().nullable(),
  odometerKm: z.number().nullable(),
  voucherCode: z.string().nullable(),
  source: z.string().describe('api, import (a fuel-card statement), simulator or seed'),
  entryFlags: z.array(flag).describe('Facts known when it was written, e.g. duplicate_receipt'),
  voidedBy: z
    .object({ id: z.uuid(), seq: z.number().int(), reason: z.string().nullable(), createdAt: z.string() })
    .nullable()
    .describe('The void entry that cancels this purchase (null: it stands)'),
  createdAt: z.string(),
  createdBy: z.object({ keyId: z.string().nullable(), keyName: z.string().nullable() }),
  prevHash: z.string(),
  hash: z.string(),
});

export const entryView = (e: LedgerEntry): z.infer<typeof purchaseEntry> => ({
  id: e.id,
  seq: e.seq,
  kind: e.kind,
  voidsId: e.voidsId,
  reason: e.reason,
  vehicleId: e.vehicleId,
  plateNumber: e.plateNumber,
  departmentId: e.departmentId,
  at: e.at.toISOString(),
  litres: litresNumber(e.litresMl),
  amountIdr: rupiahNumber(e.amountIdr),
  fuelType: e.fuelType,
  station: e.stationCode,
  lat: e.lat,
  lon: e.lon,
  position: e.position,
  receiptNo: e.receiptNo,
  odometerKm: e.odometerKm,
  voucherCode: e.voucherCode,
  source: e.source,
  entryFlags: [...e.entryFlags],
  voidedBy: e.voidedBy ? { ...e.voidedBy, createdAt: e.voidedBy.createdAt.toISOString() } : null,
  createdAt: e.createdAt.toISOString(),
  createdBy: { keyId: e.createdByKeyId, keyName: e.createdByKeyName },
  prevHash: e.prevHash,
  hash: e.hash,
});

const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('Posting again with the same key answers the same entry (200); the same key with a different body is a 409'),
});

const verifyResult = z.object({
  ok: z.boolean(),
  checked: z.number().int().describe('Entries whose hash was recomputed and found right, from seq 1'),
  lastHash: z.string().describe('The hash of the last good entry: note it to notice later truncation of the tail'),
  firstBroken: z
    .object({
      seq: z.number().int(),
      id: z.string().nullable(),
      problem: z.enum(['seq_gap', 'prev_hash_mismatch', 'hash_mismatch']),
      detail: z.string(),
    })
    .nullable(),
});

const importResult = z.object({
  dryRun: z.boolean(),
  atomic: z.boolean(),
  written: z.boolean().describe('Whether anything was added to the ledger'),
  fileSha256: z.string().describe('SHA-256 of the statement as received (also in the audit log)'),
  summary: z.object({ rows: z.number().int(), created: z.number().int(), existing: z.number().int(), invalid: z.number().int() }),
  rows: z.array(
    z.object({
      line: z.number().int().describe('The line of the file the row ends on (the header is line 1)'),
      status: z
        .enum(['created', 'existing', 'invalid', 'would_create', 'not_written'])
        .describe(
          'created; existing (already in the ledger); invalid (see errors); would_create (dry run); ' +
            'not_written (atomic import with bad rows)',
        ),
      receiptNo: z.string().nullable(),
      entryId: z.string().optional(),
      seq: z.number().int().optional(),
      entryFlags: z.array(flag).optional(),
      errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  ),
});

export function fuelPurchaseRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const ledger = deps.services.ledger;
  const tz = ledger.settings.reportTz;
  return async (app) => {
    // Fuel-card statements come as CSV text (only this plugin's routes take it).
    app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: 8 * 1024 * 1024 }, (_request, body, done) =>
      done(null, body),
    );

    app.post(
      '/fuel-purchases',
      {
        preHandler: requireRole(...FINANCE_WRITERS),
        schema: {
          tags: ['finance'],
          summary: 'Record a fuel purchase in the ledger',
          description:
            'Appends a purchase to the hash-chained, append-only ledger: 201 with the new entry. The same receipt again (same vehicle, ' +
            'receiptNo, time, litres and amount) or the same Idempotency-Key with the same body answers the existing entry with 200. ' +
            'A receiptNo already standing with different content is recorded and flagged duplicate_receipt.',
          headers: idempotencyHeaders,
          body: purchaseBody,
          response: {
            200: purchaseEntry,
            201: purchaseEntry,
            400: errorResponse,
            403: errorResponse,
            404: errorResponse,
            409: errorResponse,
          },
        },
      },
      async (request, reply) => {
        const { entry, outcome } = await ledger.record(request.body, {
          actor: actorOf(request.auth),
          scope: request.auth,
          now: deps.now(),
          idempotencyKey: request.headers['idempotency-key'],
        });
        return reply.code(outcome === 'created' ? 201 : 200).send(entryView(entry));
      },
    );

    app.get(
      '/fuel-purchases',
      {
        schema: {
          tags: ['finance'],
          summary: 'List ledger entries (purchases and voids), newest first, with the sums of the purchases that stand',
          querystring: z.object({
            vehicleId: z.uuid().optional(),
            departmentId: z.uuid().optional(),
            from: periodBound.optional().describe('Purchases at or after (ISO 8601 with a zone, or a local date)'),
            to: periodBound.optional().describe('Purchases before (ISO 8601), or up to the end of this local date'),
            kind: z.enum(['purchase', 'void']).optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
            offset: z.coerce.number().int().min(0).default(0),
          }),
          response: {
            200: z.object({
              entries: z.array(purchaseEntry),
              total: z.number().int().describe('Entries matching the filter'),
              nextOffset: z.number().int().nullable().describe('The offset of the next page (null: this is the last)'),
              standing: z
                .object({ count: z.number().int(), litres: z.number(), amountIdr: z.number().int() })
                .describe('Purchases matching the filter that are not voided: voided purchases are left out of sums'),
            }),
            400: errorResponse,
          },
        },
      },
      async (request) => {
        const q = request.query;
        const fromMs = boundMs(q.from, tz, 'from');
        const toMs = boundMs(q.to, tz, 'to');
        if (fromMs !== undefined && toMs !== undefined && !(fromMs < toMs)) throw new BadRequestError('query.from must be before query.to');
        const { entries, total, standing } = await deps.repos.purchases.list(request.auth, {
          vehicleId: q.vehicleId,
          departmentId: q.departmentId,
          fromMs,
          toMs,
          kind: q.kind,
          limit: q.limit,
          offset: q.offset,
        });
        return {
          entries: entries.map(entryView),
          total,
          nextOffset: q.offset + entries.length < total ? q.offset + entries.length : null,
          standing: { count: standing.count, litres: litresNumber(standing.litresMl), amountIdr: rupiahNumber(standing.amountIdr) },
        };
      },
    );

    app.post(
      '/fuel-purchases/import',
      {
        preHandler: requireRole(...FINANCE_WRITERS),
        schema: {
          tags: ['finance'],
          summary: 'Import a fuel-card statement (CSV) into the ledger, with per-row results',
          description:
            'Body: `text/csv`, UTF-8, comma-separated, a header line naming the columns: `plateNumber` (or `vehicleId`), `at`, `litres`, ' +
            '`amountIdr`, `fuelType`, `receiptNo` (required), and optionally `station`, `lat`, `lon`, `odometerKm`, `voucherCode`. ' +
            '`at` without an offset (`2026-11-14 09:30`) is local time (REPORT_TZ, WITA). Rows without receiptNo are refused. ' +
            'Rows with errors are not written and the others are; with `atomic=true` nothing is written if any row has an error (422). ' +
            '`dryRun=true` answers what an import would do and writes nothing. A row already in the ledger (same vehicle, receiptNo, ' +
            'time, litres and amount) is `existing`: importing the same file twice adds nothing. ' +
            'Line numbers count the header as line 1. ' +
            'A statement covers the whole fleet: it needs a key without a department.',
          consumes: ['text/csv'],
          querystring: z.object({
            dryRun: z.enum(['true', 'false']).default('false').describe('true: check and report, write nothing'),
            atomic: z.enum(['true', 'false']).default('false').describe('true: write nothing unless every row is good'),
          }),
          body: z.string().min(1).describe('The statement as CSV text (Content-Type: text/csv)'),
          response: {
            200: importResult,
            400: errorResponse,
            403: errorResponse,
            422: importResult,
          },
        },
      },
      async (request, reply) => {
        if (request.auth.departmentId)
          throw new ForbiddenError('A fuel-card statement covers the whole fleet: importing it needs a key without a department.');
        const result = await deps.services.statementImport.importCsv(
          request.body,
          { dryRun: request.query.dryRun === 'true', atomic: request.query.atomic === 'true' },
          { actor: actorOf(request.auth), scope: request.auth, now: deps.now() },
        );
        return reply.code(result.atomic && result.summary.invalid > 0 && !result.dryRun ? 422 : 200).send(result);
      },
    );

    app.get(
      '/fuel-purchases/verify',
      {
        preHandler: requireRole('admin', 'finance', 'auditor'),
        schema: {
          tags: ['finance'],
          summary: "Verify the ledger's hash chain and name the first broken entry",
          description:
            "Recomputes every entry's SHA-256 from seq 1 and checks that each names its predecessor. Works while the service runs " +
            '(also on the embedded database). The ledger is one chain across departments: a key without a department is needed.',
          response: { 200: verifyResult, 403: errorResponse },
        },
      },
      async (request) => {
        if (request.auth.departmentId)
          throw new ForbiddenError('The ledger is one chain across all departments: verifying it needs a key without a department.');
        const result = await ledger.verify();
        return { ok: result.ok, checked: result.checked, lastHash: result.lastHash, firstBroken: result.firstBroken };
      },
    );

    app.get(
      '/fuel-purchases/:id',
      {
        schema: { tags: ['finance'], summary: 'One ledger entry', params: idParams, response: { 200: purchaseEntry, 404: errorResponse } },
      },
      async (request) => {
        const found = await deps.repos.purchases.findById(request.auth, request.params.id);
        if (!found) throw new NotFoundError('Purchase');
        return entryView(found);
      },
    );

    app.post(
      '/fuel-purchases/:id/void',
      {
        preHandler: requireRole(...FINANCE_WRITERS),
        schema: {
          tags: ['finance'],
          summary: 'Void a purchase with a new ledger entry (at most once)',
          description:
            'The purchase stays in the ledger; a void entry naming it is appended and sums leave the purchase out. A second void is a 409.',
          params: idParams,
          body: z.object({ reason: z.string().trim().min(3).max(500).describe('Why the purchase is voided (kept in the ledger)') }),
          response: { 201: purchaseEntry, 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse },
        },
      },
      async (request, reply) => {
        const entry = await ledger.void(request.params.id, request.body.reason, {
          actor: actorOf(request.auth),
          scope: request.auth,
          now: deps.now(),
        });
        return reply.code(201).send(entryView(entry));
      },
    );
  };
}
