import { deflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import { DEFAULT_MATRIX_LIMITS, type MatrixLimits } from '../../../src/matrices/parse/index.ts';

export const limits: MatrixLimits = { ...DEFAULT_MATRIX_LIMITS };

/** Keys only, so the wide layout can express it; includes a comma and an accent on purpose. */
export const wideJson = {
  dimensions: [
    { key: 'setting', levels: [{ key: 'beach' }, { key: 'rooftop, night' }, { key: 'forest' }] },
    { key: 'tone', levels: [{ key: 'playful' }, { key: 'serious' }] },
    {
      key: 'city',
      levels: [{ key: 'Montréal' }, { key: 'Paris' }, { key: 'Lyon' }, { key: 'Oslo' }],
    },
  ],
};

/** The same matrix as a wide CSV: columns of different lengths, blank cells between. */
export const wideCsv = [
  'setting,tone,city',
  'beach,playful,Montréal',
  '"rooftop, night",serious,Paris',
  'forest,,Lyon',
  ',,Oslo',
].join('\n');

export const wideRows: ExcelJS.CellValue[][] = [
  ['setting', 'tone', 'city'],
  ['beach', 'playful', 'Montréal'],
  ['rooftop, night', 'serious', 'Paris'],
  ['forest', null, 'Lyon'],
  [null, null, 'Oslo'],
];

export const longJson = {
  dimensions: [
    {
      key: 'tone',
      levels: [
        { key: 'playful', label: 'Playful', prompt: 'upbeat, bright colours' },
        { key: 'serious', prompt: 'calm voice-over,\nmuted palette' },
      ],
    },
    {
      key: 'partner',
      levels: [
        { key: 'acme', label: 'ACME Corp', asset_id: 'ast_01HZY3K4M5N6P7Q8R9S0T1V2W3' },
        { key: 'globex', asset_id: 'ast_01HZY3K4M5N6P7Q8R9S0T1V2W4' },
      ],
    },
    { key: 'city', levels: [{ key: 'Paris' }] },
  ],
};

/** Columns in a non-canonical order and case; the tone rows are not contiguous. */
export const longCsv = [
  'Level, DIMENSION ,prompt,label,asset_id',
  'playful,tone,"upbeat, bright colours",Playful,',
  'acme,partner,,ACME Corp,ast_01HZY3K4M5N6P7Q8R9S0T1V2W3',
  'serious,tone,"calm voice-over,\nmuted palette",,',
  'globex,partner,,,ast_01HZY3K4M5N6P7Q8R9S0T1V2W4',
  'Paris,city,,,',
].join('\n');

export const longRows: ExcelJS.CellValue[][] = [
  ['Level', 'DIMENSION', 'prompt', 'label', 'asset_id'],
  ['playful', 'tone', 'upbeat, bright colours', 'Playful', null],
  ['acme', 'partner', null, 'ACME Corp', 'ast_01HZY3K4M5N6P7Q8R9S0T1V2W3'],
  ['serious', 'tone', 'calm voice-over,\nmuted palette', null, null],
  ['globex', 'partner', null, null, 'ast_01HZY3K4M5N6P7Q8R9S0T1V2W4'],
  ['Paris', 'city', null, null, null],
];

/** Writes rows to the first worksheet; `extra` may add more sheets or touch cells. */
export async function xlsx(
  rows: ExcelJS.CellValue[][],
  extra?: (wb: ExcelJS.Workbook, ws: ExcelJS.Worksheet) => void,
): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Matrix');
  rows.forEach((cells, r) => {
    cells.forEach((value, c) => {
      if (value !== null) ws.getCell(r + 1, c + 1).value = value;
    });
  });
  extra?.(wb, ws);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/**
 * A minimal ZIP writer, so that tests can build archives exceljs would never write (bombs,
 * lying headers, zips without a workbook) without another dependency.
 */
export function zip(entries: Array<{ name: string; data: Buffer; declaredSize?: number }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const body = deflateRawSync(entry.data);
    const size = entry.declaredSize ?? entry.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/** A workbook of named sheets, in order, each given as rows of cell values. */
export async function workbook(sheets: Record<string, ExcelJS.CellValue[][]>): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) {
    const ws = wb.addWorksheet(name);
    for (const row of rows) ws.addRow(row);
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}
