/**
 * `matrix upload --logos dir/`: links logo files to levels inside the sheet itself, so the
 * server still reads (and names rows and columns of) the sheet the manager wrote. A level gets a
 * logo when its asset_id cell says `@file.png` (any folder before the name is ignored) or is
 * empty and a file is named after the level's key (`acme` ↔ `acme.png`).
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';

const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};

export class SheetError extends Error {}

export interface LogoFile {
  name: string;
  path: string;
  contentType: string;
}

export async function logoFiles(dir: string): Promise<LogoFile[]> {
  const names = (await readdir(dir)).sort();
  return names
    .filter((name) => IMAGE_TYPES[extname(name).toLowerCase()])
    .map((name) => ({
      name,
      path: join(dir, name),
      contentType: IMAGE_TYPES[extname(name).toLowerCase()]!,
    }));
}

/** The asset a level should carry: its `@file` reference, else a file named after its key. */
function assetFor(
  cell: string,
  levelKey: string,
  assets: ReadonlyMap<string, string>,
  where: string,
): string | null {
  const value = cell.trim();
  if (value.startsWith('@')) {
    const wanted = basename(value.slice(1));
    const id = assets.get(wanted);
    if (!id) throw new SheetError(`${where}: ${value} is not a file in the logos folder`);
    return id;
  }
  if (value) return null; // an asset id already
  for (const [file, id] of assets)
    if (basename(file, extname(file)).toLowerCase() === levelKey.trim().toLowerCase()) return id;
  return null;
}

interface Columns {
  level: number;
  asset: number | null;
}

function columnsOf(header: readonly string[], where: string): Columns {
  const find = (name: string) => {
    const i = header.findIndex((h) => h.trim().toLowerCase() === name);
    return i < 0 ? null : i;
  };
  const level = find('level');
  if (level === null || find('dimension') === null)
    throw new SheetError(
      `${where}: --logos needs the long form, with dimension, level and asset_id columns`,
    );
  return { level, asset: find('asset_id') };
}

/** Returns the sheet with asset ids in place, and how many levels got one. */
export async function linkLogos(
  file: string,
  assets: ReadonlyMap<string, string>,
): Promise<{ bytes: Uint8Array; linked: number }> {
  const bytes = await readFile(file);
  return extname(file).toLowerCase() === '.xlsx'
    ? linkXlsx(bytes, assets)
    : linkCsv(bytes, assets, basename(file));
}

function linkCsv(bytes: Buffer, assets: ReadonlyMap<string, string>, name: string) {
  const rows = parse(bytes, { bom: true, relax_column_count: true }) as string[][];
  const header = rows[0] ?? [];
  const cols = columnsOf(header, name);
  const assetCol = cols.asset ?? header.length;
  if (cols.asset === null) header.push('asset_id');
  let linked = 0;
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    const id = assetFor(row[assetCol] ?? '', row[cols.level] ?? '', assets, `${name} row ${r + 1}`);
    if (id === null) continue;
    while (row.length <= assetCol) row.push('');
    row[assetCol] = id;
    linked++;
  }
  return { bytes: new TextEncoder().encode(stringify(rows)), linked };
}

async function linkXlsx(bytes: Buffer, assets: ReadonlyMap<string, string>) {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(bytes as unknown as ArrayBuffer);
  const sheet = book.worksheets[0];
  if (!sheet) throw new SheetError('the workbook has no sheet');
  const text = (col: number, row: number) => sheet.getRow(row).getCell(col).text ?? '';
  const header = Array.from({ length: sheet.columnCount }, (_, i) => text(i + 1, 1));
  const cols = columnsOf(header, sheet.name);
  const assetCol = (cols.asset ?? header.length) + 1;
  if (cols.asset === null) sheet.getRow(1).getCell(assetCol).value = 'asset_id';
  let linked = 0;
  for (let r = 2; r <= sheet.rowCount; r++) {
    const where = `${sheet.name} row ${r}`;
    const id = assetFor(text(assetCol, r), text(cols.level + 1, r), assets, where);
    if (id === null) continue;
    sheet.getRow(r).getCell(assetCol).value = id;
    linked++;
  }
  return { bytes: new Uint8Array(await book.xlsx.writeBuffer()), linked };
}
