/**
 * The savings report as CSV and XLSX for finance's spreadsheets: department names,
 * dates local (REPORT_TZ, WITA in Kupang), a totals row that is the sum of the rounded
 * rows, rupiah as numeric cells with a rupiah format (XLSX), and text that a spreadsheet
 * would run as a formula (starting with =, +, - or @) neutralised with a leading quote.
 */
import ExcelJS from 'exceljs';
import { tzOffsetMs } from '../domain/report-time.js';
import type { DepartmentView, SavingsRowView, SumsView } from './savings.js';

export interface SavingsExport {
  /** 'YYYY-MM' or 'YYYY'. */
  period: string;
  partial: boolean;
  vehicles: SavingsRowView[];
  departments: DepartmentView[];
  totals: SumsView;
  generatedAtMs: number;
  reportTz: string;
}

/** Text a spreadsheet would take for a formula gets a leading quote (CSV/XLSX injection). */
export const neutralise = (s: string): string => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

/** 'YYYY-MM-DD HH:mm' in the report's zone, with its abbreviation when it is Kupang's. */
export function localStamp(ms: number, tz: string): string {
  const local = new Date(ms + tzOffsetMs(tz, ms)).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 16)} ${tz === 'Asia/Makassar' ? 'WITA' : tz}`;
}
export const localDate = (ms: number, tz: string): string => new Date(ms + tzOffsetMs(tz, ms)).toISOString().slice(0, 10);

const COLUMNS: Array<{ header: string; key: keyof SavingsRowView; kind: 'text' | 'litres' | 'idr' }> = [
  { header: 'plateNumber', key: 'plateNumber', kind: 'text' },
  { header: 'departmentName', key: 'departmentName', kind: 'text' },
  { header: 'baselineLitres', key: 'baselineLitres', kind: 'litres' },
  { header: 'baselineIdr', key: 'baselineIdr', kind: 'idr' },
  { header: 'purchasedLitres', key: 'purchasedLitres', kind: 'litres' },
  { header: 'purchasedIdr', key: 'purchasedIdr', kind: 'idr' },
  { header: 'usedLitres', key: 'usedLitres', kind: 'litres' },
  { header: 'usedSource', key: 'usedSource', kind: 'text' },
  { header: 'ratedLitres', key: 'ratedLitres', kind: 'litres' },
  { header: 'unexplainedLitres', key: 'unexplainedLitres', kind: 'litres' },
  { header: 'savingsIdr', key: 'savingsIdr', kind: 'idr' },
  { header: 'flags', key: 'flags', kind: 'text' },
];

const cellText = (v: unknown): string => (Array.isArray(v) ? v.join(' ') : String(v ?? ''));

const csvField = (v: string | number): string => {
  const s = typeof v === 'number' ? String(v) : neutralise(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** RFC 4180: a header, one row per vehicle, then the totals row. */
export function savingsCsv(x: SavingsExport): string {
  const header = ['period', ...COLUMNS.map((c) => c.header)];
  const lines = [header.map(csvField).join(',')];
  for (const r of x.vehicles)
    lines.push([x.period, ...COLUMNS.map((c) => (c.kind === 'text' ? cellText(r[c.key]) : (r[c.key] as number)))].map(csvField).join(','));
  lines.push([x.period, ...totalsCells(x), x.partial ? 'partial' : ''].map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The totals row under the vehicle columns, up to (not including) the flags column. */
function totalsCells(x: SavingsExport): Array<string | number> {
  const t = x.totals;
  return [
    'TOTAL',
    `${t.vehicles} vehicles`,
    t.baselineLitres,
    t.baselineIdr,
    t.purchasedLitres,
    t.purchasedIdr,
    t.usedLitres,
    '',
    t.ratedLitres,
    t.unexplainedLitres,
    t.savingsIdr,
  ];
}

const RUPIAH_FORMAT = '"Rp" #,##0;[Red]-"Rp" #,##0';
const LITRES_FORMAT = '#,##0.000';

/** A workbook: the vehicles with a totals row, and the departments with their budgets. */
export async function savingsXlsx(x: SavingsExport): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Armada';
  wb.created = new Date(x.generatedAtMs);
  const title = `Fuel savings ${x.period}${x.partial ? ' (to date)' : ''}`;
  const stamp = `Generated ${localStamp(x.generatedAtMs, x.reportTz)}`;

  const vs = wb.addWorksheet('Vehicles');
  vs.addRow([title]).font = { bold: true, size: 14 };
  vs.addRow([stamp]);
  vs.addRow([]);
  const header = vs.addRow(COLUMNS.map((c) => c.header));
  header.font = { bold: true };
  const formatRow = (row: ExcelJS.Row) => {
    COLUMNS.forEach((c, i) => {
      if (c.kind !== 'text') row.getCell(i + 1).numFmt = c.kind === 'idr' ? RUPIAH_FORMAT : LITRES_FORMAT;
    });
  };
  for (const r of x.vehicles)
    formatRow(vs.addRow(COLUMNS.map((c) => (c.kind === 'text' ? neutralise(cellText(r[c.key])) : (r[c.key] as number)))));
  const totals = vs.addRow([...totalsCells(x), '']);
  totals.font = { bold: true };
  formatRow(totals);
  vs.columns.forEach((col, i) => (col.width = i < 2 ? 28 : 16));

  const ds = wb.addWorksheet('Departments');
  ds.addRow([title]).font = { bold: true, size: 14 };
  ds.addRow([stamp]);
  ds.addRow([]);
  const depCols: Array<{ header: string; value: (d: DepartmentView) => string | number | null; idr?: boolean; litres?: boolean }> = [
    { header: 'departmentName', value: (d) => neutralise(d.departmentName) },
    { header: 'vehicles', value: (d) => d.vehicles },
    { header: 'baselineIdr', value: (d) => d.baselineIdr, idr: true },
    { header: 'purchasedLitres', value: (d) => d.purchasedLitres, litres: true },
    { header: 'purchasedIdr', value: (d) => d.purchasedIdr, idr: true },
    { header: 'usedLitres', value: (d) => d.usedLitres, litres: true },
    { header: 'unexplainedLitres', value: (d) => d.unexplainedLitres, litres: true },
    { header: 'savingsIdr', value: (d) => d.savingsIdr, idr: true },
    { header: 'budgetIdr', value: (d) => d.budgetIdr, idr: true },
    { header: 'spentIdr', value: (d) => d.spentIdr, idr: true },
    { header: 'budgetLeftIdr', value: (d) => d.budgetLeftIdr, idr: true },
  ];
  ds.addRow(depCols.map((c) => c.header)).font = { bold: true };
  for (const d of x.departments) {
    const row = ds.addRow(depCols.map((c) => c.value(d)));
    depCols.forEach((c, i) => {
      if (c.idr) row.getCell(i + 1).numFmt = RUPIAH_FORMAT;
      if (c.litres) row.getCell(i + 1).numFmt = LITRES_FORMAT;
    });
  }
  ds.columns.forEach((col, i) => (col.width = i === 0 ? 40 : 16));
  return Buffer.from(await wb.xlsx.writeBuffer());
}
