import { describe, expect, it } from 'vitest';
import {
  type MatrixResult,
  parseMatrixCsv,
  parseMatrixXlsx,
  validateMatrix,
} from '../../../src/matrices/parse/index.ts';
import { limits, longJson, longRows, wideJson, wideRows, workbook, xlsx, zip } from './fixtures.ts';

function errorsOf(result: MatrixResult, kind: string) {
  if (result.ok) throw new Error('expected errors');
  expect(result.kind).toBe(kind);
  return result.errors;
}

describe('parseMatrixXlsx: layouts round-trip to the JSON matrix', () => {
  it('wide form', async () => {
    expect(await parseMatrixXlsx(await xlsx(wideRows), limits)).toEqual(
      validateMatrix(wideJson, limits),
    );
  });

  it('long form', async () => {
    expect(await parseMatrixXlsx(await xlsx(longRows), limits)).toEqual(
      validateMatrix(longJson, limits),
    );
  });

  it('reads the first worksheet only, and ignores styled empty rows at the end', async () => {
    const buf = await xlsx(wideRows, (wb, ws) => {
      wb.addWorksheet('Notes').getCell('A1').value = 'not a matrix';
      ws.getCell('A40').value = '   ';
      ws.getRow(41).getCell(2).style = { font: { bold: true } };
    });
    expect(await parseMatrixXlsx(buf, limits)).toEqual(validateMatrix(wideJson, limits));
  });

  it('converts numbers, rich text, formulas, dates, booleans, hyperlinks and merged cells', async () => {
    const buf = await xlsx(
      [
        [
          'size',
          { richText: [{ text: 'we' }, { text: 'ek', font: { bold: true } }] },
          'launch',
          'flag',
          'site',
          'slot',
        ],
        [
          30,
          { formula: 'ROW()-1', result: 1 },
          new Date(Date.UTC(2025, 2, 14)),
          true,
          { text: 'Landing', hyperlink: 'https://example.com' },
          'morning',
        ],
        [
          0.1 + 0.2,
          { sharedFormula: 'B2', result: 2 },
          new Date(Date.UTC(2025, 2, 14, 9, 30)),
          false,
          {
            // Typed as a string by exceljs, but Excel writes styled link text as rich text.
            text: { richText: [{ text: 'Shop' }] } as unknown as string,
            hyperlink: 'https://example.com/shop',
          },
          null,
        ],
      ],
      (_wb, ws) => {
        ws.getCell('F4').value = 'evening';
        // F4:F5 shows one "evening"; exceljs repeats it in F5.
        ws.mergeCells('F4:F5');
        ws.getCell('A4').value = 'xl';
        ws.getCell('A5').value = 'xxl';
      },
    );
    const result = await parseMatrixXlsx(buf, limits);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.matrix.dimensions.map((d) => [d.key, d.levels.map((l) => l.key)])).toEqual([
      ['size', ['30', '0.3', 'xl', 'xxl']],
      ['week', ['1', '2']],
      ['launch', ['2025-03-14', '2025-03-14 09:30']],
      ['flag', ['TRUE', 'FALSE']],
      ['site', ['Landing', 'Shop']],
      ['slot', ['morning', 'evening']],
    ]);
  });

  it('gives the same errors as the same table in CSV', async () => {
    const rows = [
      ['Tone', 'Home city'],
      ['playful', 'Paris'],
      ['serious', 'Lyon'],
      ['playful', null],
    ];
    const csv = rows.map((r) => r.map((c) => c ?? '').join(',')).join('\n');
    const fromXlsx = errorsOf(await parseMatrixXlsx(await xlsx(rows), limits), 'invalid');
    const fromCsv = errorsOf(parseMatrixCsv(csv, limits), 'invalid');
    expect(fromXlsx).toEqual(fromCsv.map((e) => ({ sheet: 'Matrix', ...e })));
    expect(fromXlsx).toEqual([
      {
        sheet: 'Matrix',
        row: 1,
        column: 'Home city',
        message:
          'dimension key "Home city" must start with a lowercase letter and contain only lowercase letters, digits and "_" (at most 32 characters)',
      },
      {
        sheet: 'Matrix',
        row: 4,
        column: 'Tone',
        message: 'duplicate level key "playful" (first at row 2)',
      },
    ]);
  });
});

describe('parseMatrixXlsx: which sheet', () => {
  const readMe = [['How to fill this workbook'], ['One column per variable, one level per cell.']];

  it('skips a "Read me" sheet for the first sheet whose header parses', async () => {
    const buf = await workbook({ 'Read me': readMe, Notes: [], Data: wideRows });
    expect(await parseMatrixXlsx(buf, limits)).toEqual(validateMatrix(wideJson, limits));
    const long = await workbook({ 'Read me': readMe, Levels: longRows });
    expect(await parseMatrixXlsx(long, limits)).toEqual(validateMatrix(longJson, limits));
  });

  it('prefers the sheet named "matrix" in any case, wherever it is', async () => {
    const buf = await workbook({
      Draft: [['tone'], ['sad']],
      ' MATRIX ': [
        ['Tone', 'City'],
        ['calm', 'Paris'],
      ],
    });
    const result = await parseMatrixXlsx(buf, limits);
    expect(result.ok && result.matrix.dimensions.map((d) => [d.key, d.label])).toEqual([
      ['tone', 'Tone'],
      ['city', 'City'],
    ]);
  });

  it('names the sheet in every error: the chosen one, or the first when none parses', async () => {
    const buf = await workbook({
      'Read me': readMe,
      Data: [
        ['tone', 'city'],
        ['calm', 'Paris'],
        ['calm', 'Rome'],
      ],
    });
    const errors = errorsOf(
      await parseMatrixXlsx(buf, limits, [{ exclude: { x: 'y' } }]),
      'invalid',
    );
    expect(errors).toEqual([
      {
        sheet: 'Data',
        row: 3,
        column: 'tone',
        message: 'duplicate level key "calm" (first at row 2)',
      },
      { sheet: 'Data', path: 'constraints[0].exclude.x', message: 'unknown dimension "x"' },
    ]);
    const none = await workbook({ 'Read me': readMe, Other: [['a b'], ['c']] });
    expect(errorsOf(await parseMatrixXlsx(none, limits), 'invalid')[0]).toMatchObject({
      sheet: 'Read me',
      row: 1,
      column: 'How to fill this workbook',
    });
  });
});

describe('parseMatrixXlsx: unreadable files (malformed)', () => {
  it('rejects a buffer that is not a ZIP archive', async () => {
    expect(
      errorsOf(await parseMatrixXlsx(Buffer.from('tone\nplayful\n'), limits), 'malformed'),
    ).toEqual([{ message: 'the file is not an .xlsx workbook' }]);
    expect(errorsOf(await parseMatrixXlsx(Buffer.alloc(0), limits), 'malformed')).toEqual([
      { message: 'the file is empty' },
    ]);
  });

  it('rejects legacy .xls and password-protected workbooks', async () => {
    const ole = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0]);
    expect(errorsOf(await parseMatrixXlsx(ole, limits), 'malformed')).toEqual([
      {
        message:
          'this is a legacy .xls file or a password-protected workbook; save it as an unprotected .xlsx',
      },
    ]);
  });

  it('rejects a truncated or damaged archive', async () => {
    const good = await xlsx(wideRows);
    const truncated = good.subarray(0, good.length - 300);
    expect(errorsOf(await parseMatrixXlsx(truncated, limits), 'malformed')).toEqual([
      { message: 'the .xlsx file is corrupt (its ZIP structure is damaged)' },
    ]);
    // 0xFF as the first byte of a deflate stream is a reserved block type: never inflatable.
    const damaged = Buffer.from(good);
    const dataStart = 30 + damaged.readUInt16LE(26) + damaged.readUInt16LE(28);
    damaged.fill(0xff, dataStart, dataStart + 16);
    expect(errorsOf(await parseMatrixXlsx(damaged, limits), 'malformed')).toEqual([
      { message: 'the .xlsx file is corrupt (its ZIP structure is damaged)' },
    ]);
  });

  it('rejects an archive whose workbook part is not valid XML', async () => {
    const broken = zip([
      { name: 'xl/workbook.xml', data: Buffer.from('<workbook><sheets><sheet') },
    ]);
    expect(errorsOf(await parseMatrixXlsx(broken, limits), 'malformed')).toEqual([
      { message: 'the .xlsx file is corrupt or is not a workbook' },
    ]);
  });

  it('rejects a valid ZIP that is not a workbook', async () => {
    const notWorkbook = zip([{ name: 'readme.txt', data: Buffer.from('hello') }]);
    expect(errorsOf(await parseMatrixXlsx(notWorkbook, limits), 'malformed')).toEqual([
      { message: 'the workbook has no worksheet' },
    ]);
  });

  it('rejects an empty sheet named "matrix", even when another sheet has a header', async () => {
    const buf = await xlsx([], (wb) => {
      wb.addWorksheet('Second').getCell('A1').value = 'tone';
    });
    expect(errorsOf(await parseMatrixXlsx(buf, limits), 'malformed')).toEqual([
      { sheet: 'Matrix', message: 'the worksheet "Matrix" is empty' },
    ]);
  });
});

describe('parseMatrixXlsx: size limits (too_large)', () => {
  it('rejects an oversized file', async () => {
    const buf = await xlsx(wideRows);
    const result = await parseMatrixXlsx(buf, { ...limits, maxFileBytes: buf.length - 1 });
    expect(errorsOf(result, 'too_large')).toEqual([
      { message: `the file is ${buf.length} bytes; the limit is ${buf.length - 1} bytes` },
    ]);
  });

  it('rejects a ZIP bomb, even when its headers understate the size', async () => {
    const small = { ...limits, maxFileBytes: 64 * 1024 };
    const bomb = Buffer.alloc(4 * 1024 * 1024);
    for (const declaredSize of [undefined, 1000]) {
      const buf = zip([{ name: 'xl/worksheets/sheet1.xml', data: bomb, declaredSize }]);
      expect(buf.length).toBeLessThan(small.maxFileBytes);
      // Default cap: 16 × maxFileBytes.
      expect(errorsOf(await parseMatrixXlsx(buf, small), 'too_large')).toEqual([
        { message: 'the .xlsx file unpacks to more than 1048576 bytes' },
      ]);
    }
  });

  it('honours maxUnzippedBytes', async () => {
    const buf = await xlsx(wideRows);
    const result = await parseMatrixXlsx(buf, { ...limits, maxUnzippedBytes: 1000 });
    expect(errorsOf(result, 'too_large')).toEqual([
      { message: 'the .xlsx file unpacks to more than 1000 bytes' },
    ]);
  });
});

describe('parseMatrixXlsx: unacceptable content (invalid)', () => {
  it('rejects cells showing errors and formulas without a saved result', async () => {
    const buf = await xlsx([
      ['tone', 'city'],
      ['playful', { error: '#N/A' }],
      [{ formula: 'A2&"!"' }, 'Paris'],
    ]);
    expect(errorsOf(await parseMatrixXlsx(buf, limits), 'invalid')).toEqual([
      { sheet: 'Matrix', row: 2, column: 'city', message: 'cell shows the error #N/A' },
      {
        sheet: 'Matrix',
        row: 3,
        column: 'tone',
        message: 'formula has no saved result; open and save the file in a spreadsheet app',
      },
    ]);
  });

  it('uses sheet row numbers and column letters for blank headers', async () => {
    const buf = await xlsx([
      [],
      [],
      ['tone', null, 'city'],
      ['playful', null, 'Paris'],
      ['serious', 'oops', 'Paris'],
    ]);
    expect(errorsOf(await parseMatrixXlsx(buf, limits), 'malformed')).toEqual([
      { sheet: 'Matrix', row: 5, column: 'B', message: 'column B has values but no header' },
    ]);
  });

  it('rejects a header-only sheet and foreign asset ids with their cell', async () => {
    expect(
      errorsOf(await parseMatrixXlsx(await xlsx([['tone', 'city']]), limits), 'invalid'),
    ).toEqual([{ sheet: 'Matrix', message: 'the file has a header row but no data rows' }]);
    const buf = await xlsx([
      ['dimension', 'level', 'asset_id'],
      ['partner', 'acme', 'ast_01HZY3K4M5N6P7Q8R9S0T1V2W3'],
      ['partner', 'globex', 'https://cdn.example.com/globex.png'],
    ]);
    expect(errorsOf(await parseMatrixXlsx(buf, limits), 'invalid')).toEqual([
      {
        sheet: 'Matrix',
        row: 3,
        column: 'asset_id',
        message:
          'asset_id must be an asset id like "ast_…", got "https://cdn.example.com/globex.png"',
      },
    ]);
  });

  it('merges constraints and reports their errors by path', async () => {
    const buf = await xlsx(wideRows);
    const constraints = [{ exclude: { tone: 'playful', city: ['Paris', 'Lyon'] } }];
    expect(await parseMatrixXlsx(buf, limits, constraints)).toEqual(
      validateMatrix({ ...wideJson, constraints }, limits),
    );
    const bad = await parseMatrixXlsx(buf, limits, [{ exclude: { tone: 'sad' } }]);
    expect(errorsOf(bad, 'invalid')).toEqual([
      {
        sheet: 'Matrix',
        path: 'constraints[0].exclude.tone',
        message: 'unknown level "sad" in dimension "tone"',
      },
    ]);
  });
});
