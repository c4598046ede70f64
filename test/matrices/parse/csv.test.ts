import { describe, expect, it } from 'vitest';
import {
  type MatrixResult,
  parseMatrixCsv,
  validateMatrix,
} from '../../../src/matrices/parse/index.ts';
import { limits, longCsv, longJson, wideCsv, wideJson } from './fixtures.ts';

function errorsOf(result: MatrixResult, kind: string) {
  if (result.ok) throw new Error('expected errors');
  expect(result.kind).toBe(kind);
  return result.errors;
}

describe('parseMatrixCsv: layouts round-trip to the JSON matrix', () => {
  it('wide form: one column per dimension, columns of different lengths', () => {
    expect(parseMatrixCsv(wideCsv, limits)).toEqual(validateMatrix(wideJson, limits));
    expect(validateMatrix(wideJson, limits).ok).toBe(true);
  });

  it('long form: header in any order and case, labels, multi-line prompts, asset ids', () => {
    expect(parseMatrixCsv(longCsv, limits)).toEqual(validateMatrix(longJson, limits));
    expect(validateMatrix(longJson, limits).ok).toBe(true);
  });

  it('reads a Buffer with a UTF-8 BOM, CRLF line ends and trailing blank lines', () => {
    const buf = Buffer.from(`\uFEFF${wideCsv.replaceAll('\n', '\r\n')}\r\n\r\n,,\r\n`);
    expect(parseMatrixCsv(buf, limits)).toEqual(validateMatrix(wideJson, limits));
  });

  it('reads semicolon-separated and UTF-16 (Excel "Unicode Text") files', () => {
    const semicolons = wideCsv.replaceAll(',', ';').replace('"rooftop; night"', '"rooftop, night"');
    expect(parseMatrixCsv(semicolons, limits)).toEqual(validateMatrix(wideJson, limits));
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(wideCsv, 'utf16le')]);
    expect(parseMatrixCsv(utf16, limits)).toEqual(validateMatrix(wideJson, limits));
  });

  it('merges constraints passed alongside the file', () => {
    const constraints = [{ exclude: { city: 'Paris', tone: ['serious'] } }];
    const result = parseMatrixCsv(wideCsv, limits, constraints);
    expect(result).toEqual(validateMatrix({ ...wideJson, constraints }, limits));
    expect(result.ok && result.matrix.constraints).toEqual([
      { exclude: { tone: ['serious'], city: ['Paris'] } },
    ]);
  });
});

describe('parseMatrixCsv: malformed files', () => {
  it('rejects an unclosed quote, naming the row where it opens and its column', () => {
    const csv = 'setting,tone\nbeach,playful\n\nforest,"calm\nnight,serious\n';
    expect(errorsOf(parseMatrixCsv(csv, limits), 'malformed')).toEqual([
      {
        row: 4,
        column: 'tone',
        message: 'a quoted field starting in this row is never closed (missing ")',
      },
    ]);
  });

  it('rejects stray quotes', () => {
    expect(errorsOf(parseMatrixCsv('setting,tone\nbeach,play"ful\n', limits), 'malformed')).toEqual(
      [
        {
          row: 2,
          column: 'tone',
          message:
            'a quote (") inside an unquoted field: quote the whole field and double the inner quotes',
        },
      ],
    );
    expect(errorsOf(parseMatrixCsv('a,b\n"x"y,z\n', limits), 'malformed')).toEqual([
      { row: 2, column: 'a', message: 'unexpected characters after a closing quote (")' },
    ]);
  });

  it('rejects long-form rows with the wrong number of fields', () => {
    const csv = 'dimension,level,label\ntone,playful,Playful\ntone,serious\ncity,Paris,,x\n';
    expect(errorsOf(parseMatrixCsv(csv, limits), 'invalid')).toEqual([
      { row: 3, message: 'row has 2 fields but the header has 3' },
      { row: 4, message: 'row has 4 fields but the header has 3' },
    ]);
  });

  it('rejects wide rows whose field count differs from the header, naming another delimiter', () => {
    // Sniffed from the header: ";". Row 2 was written with ",".
    expect(
      errorsOf(parseMatrixCsv('tone;city\nplayful,Paris\nearnest;Rome\n', limits), 'invalid'),
    ).toEqual([
      {
        row: 2,
        message:
          'row has 1 field but the header has 2; the row contains "," but the header is separated by ";": use one delimiter throughout',
      },
    ]);
    // A short row is not a column of a different length: `a,` has two fields, `a` one.
    expect(
      errorsOf(parseMatrixCsv('tone,city\nplayful,Paris\nearnest\n', limits), 'invalid'),
    ).toEqual([{ row: 3, message: 'row has 1 field but the header has 2' }]);
    expect(
      errorsOf(parseMatrixCsv('tone\tcity\nplayful\tParis\nearnest;Rome\n', limits), 'invalid'),
    ).toEqual([
      {
        row: 3,
        message:
          'row has 1 field but the header has 2; the row contains ";" but the header is separated by tab: use one delimiter throughout',
      },
    ]);
  });

  it('accepts short columns, rows of blank cells and trailing blank lines, as Excel exports them', () => {
    const csv = 'tone;city\r\nplayful;Paris\r\nearnest;\r\n;\r\n;;\r\n\r\n\r\n';
    const result = parseMatrixCsv(csv, limits);
    expect(result.ok && result.matrix.dimensions.map((d) => d.levels.map((l) => l.key))).toEqual([
      ['playful', 'earnest'],
      ['Paris'],
    ]);
  });

  it('rejects values under a missing header and unknown long-form columns', () => {
    expect(errorsOf(parseMatrixCsv('tone,,city\nplayful,x,Paris\n', limits), 'malformed')).toEqual([
      { row: 2, column: 'B', message: 'column B has values but no header' },
    ]);
    expect(errorsOf(parseMatrixCsv('tone\nplayful,extra\n', limits), 'malformed')).toEqual([
      { row: 2, column: 'B', message: 'column B has values but no header' },
    ]);
    expect(
      errorsOf(
        parseMatrixCsv('dimension,level,lable,Label,label\ntone,a,A,B,C\n', limits),
        'malformed',
      ),
    ).toEqual([
      {
        row: 1,
        column: 'lable',
        message:
          'unknown column "lable": the long form has the columns dimension, level, label, prompt, asset_id, background_asset_id, provider, model',
      },
      { row: 1, column: 'label', message: 'duplicate column "label" (first at column D)' },
    ]);
  });

  it.each([
    ['an empty string', ''],
    ['only a BOM and blank lines', '\uFEFF\r\n\r\n'],
    ['only separators', ',,\n,,\n'],
  ])('rejects %s as an empty file', (_name, csv) => {
    expect(errorsOf(parseMatrixCsv(csv, limits), 'malformed')).toEqual([
      { message: 'the file is empty' },
    ]);
  });

  it('rejects text that is not UTF-8, and binary files', () => {
    const latin1 = Buffer.from('city\nMontréal\n', 'latin1');
    expect(errorsOf(parseMatrixCsv(latin1, limits), 'malformed')).toEqual([
      {
        row: 2,
        message:
          'the file is not UTF-8 text; save it as "CSV UTF-8" (the first invalid byte is in row 2)',
      },
    ]);
    const zip = Buffer.from('PK\x03\x04\x14\x00', 'latin1');
    expect(errorsOf(parseMatrixCsv(zip, limits), 'malformed')).toEqual([
      { message: 'this is a ZIP/.xlsx file, not CSV; upload it as .xlsx' },
    ]);
    expect(errorsOf(parseMatrixCsv(Buffer.from([0x61, 0, 0x62]), limits), 'malformed')).toEqual([
      { message: 'the file is binary, not CSV text' },
    ]);
  });
});

describe('parseMatrixCsv: unacceptable matrices, located by row and column', () => {
  it('rejects an oversized file before parsing it', () => {
    const csv = `tone\n${'x'.repeat(100)}\n`;
    expect(errorsOf(parseMatrixCsv(csv, { ...limits, maxFileBytes: 100 }), 'too_large')).toEqual([
      { message: 'the file is 106 bytes; the limit is 100 bytes' },
    ]);
  });

  it('rejects header-only files in both layouts', () => {
    for (const csv of ['setting,tone\r\n', 'dimension,level,label\n\n\n']) {
      expect(errorsOf(parseMatrixCsv(csv, limits), 'invalid')).toEqual([
        { message: 'the file has a header row but no data rows' },
      ]);
    }
  });

  it('wide form: duplicate level keys in a column, with both rows', () => {
    const csv = 'tone,city\nplayful,Paris\nserious,Lyon\nplayful,\n,paris\n';
    expect(errorsOf(parseMatrixCsv(csv, limits), 'invalid')).toEqual([
      { row: 4, column: 'tone', message: 'duplicate level key "playful" (first at row 2)' },
      {
        row: 5,
        column: 'city',
        message: 'level key "paris" duplicates "Paris" ignoring case (first at row 2)',
      },
    ]);
  });

  it('wide form: bad and duplicate dimension keys in the header, empty dimension', () => {
    const csv = 'Tone of voice,city,tone,tone,partner\nplayful,Paris,a,b,\n';
    expect(errorsOf(parseMatrixCsv(csv, limits), 'invalid')).toEqual([
      {
        row: 1,
        column: 'Tone of voice',
        message:
          'dimension key "Tone of voice" must start with a lowercase letter and contain only lowercase letters, digits and "_" (at most 32 characters)',
      },
      { row: 1, column: 'tone', message: 'duplicate dimension key "tone" (first at column C)' },
      { row: 1, column: 'partner', message: 'dimension "partner" has no levels' },
    ]);
  });

  it('wide form: too many dimensions and levels', () => {
    const small = { ...limits, maxDimensions: 2, maxLevelsPerDimension: 2 };
    const csv = 'a,b,c\n1,1,1\n2,,\n3,,\n';
    expect(errorsOf(parseMatrixCsv(csv, small), 'invalid')).toEqual([
      { row: 1, column: 'c', message: 'too many dimensions: 3 (the limit is 2)' },
      { row: 4, column: 'a', message: 'too many levels in dimension "a": 3 (the limit is 2)' },
    ]);
  });

  it('long form: duplicates, blank cells, bad values and limits point at their rows', () => {
    const small = { ...limits, maxLevelsPerDimension: 3 };
    const csv = [
      'dimension,level,label,asset_id',
      'partner,acme,ACME,ast_01HZY3K4M5N6P7Q8R9S0T1V2W3',
      'partner,globex,,cmp_01HZY3K4M5N6P7Q8R9S0T1V2W3',
      'tone,,Calm,',
      ',orphan,,',
      'partner,ACME,,',
      'partner,initech,,',
      'Home city,Paris,,',
    ].join('\n');
    expect(errorsOf(parseMatrixCsv(csv, small), 'invalid')).toEqual([
      {
        row: 3,
        column: 'asset_id',
        message: 'asset_id must be an asset id like "ast_…", got "cmp_01HZY3K4M5N6P7Q8R9S0T1V2W3"',
      },
      { row: 4, column: 'level', message: 'level is empty' },
      { row: 5, column: 'dimension', message: 'dimension is empty' },
      {
        row: 6,
        column: 'level',
        message: 'level key "ACME" duplicates "acme" ignoring case (first at row 2)',
      },
      {
        row: 7,
        column: 'level',
        message: 'too many levels in dimension "partner": 4 (the limit is 3)',
      },
      {
        row: 8,
        column: 'dimension',
        message:
          'dimension key "Home city" must start with a lowercase letter and contain only lowercase letters, digits and "_" (at most 32 characters)',
      },
    ]);
  });

  it('matches dimension names ignoring case; labels and levels keep theirs', () => {
    const wide = parseMatrixCsv('Tone,city\nPlayful,Paris\n', limits);
    expect(wide).toEqual(
      validateMatrix(
        {
          dimensions: [
            { key: 'tone', label: 'Tone', levels: [{ key: 'Playful' }] },
            { key: 'city', levels: [{ key: 'Paris' }] },
          ],
        },
        limits,
      ),
    );
    const long = parseMatrixCsv('DIMENSION,Level,LABEL\nTone,calm,Calm\ntone,Bold,\n', limits);
    expect(long).toEqual(
      validateMatrix(
        {
          dimensions: [
            {
              key: 'tone',
              label: 'Tone',
              levels: [{ key: 'calm', label: 'Calm' }, { key: 'Bold' }],
            },
          ],
        },
        limits,
      ),
    );
  });

  it('long form: too many dimensions points at the row introducing the first extra one', () => {
    const csv = 'dimension,level\na,1\nb,1\na,2\nc,1\n';
    expect(errorsOf(parseMatrixCsv(csv, { ...limits, maxDimensions: 2 }), 'invalid')).toEqual([
      { row: 5, column: 'dimension', message: 'too many dimensions: 3 (the limit is 2)' },
    ]);
  });

  it('row numbers count blank lines and multi-line cells the way a spreadsheet shows them', () => {
    const csv =
      'dimension,level,prompt\ntone,playful,"bright,\ncheerful"\n\ntone,serious,\ntone,playful,\n';
    expect(errorsOf(parseMatrixCsv(csv, limits), 'invalid')).toEqual([
      { row: 5, column: 'level', message: 'duplicate level key "playful" (first at row 2)' },
    ]);
  });

  it('constraint errors keep their JSON path', () => {
    const result = parseMatrixCsv(wideCsv, limits, [
      { exclude: { weather: 'rain' } },
      { exclude: { city: ['Paris', 'Nice'] } },
    ]);
    expect(errorsOf(result, 'invalid')).toEqual([
      { path: 'constraints[0].exclude.weather', message: 'unknown dimension "weather"' },
      {
        path: 'constraints[1].exclude.city[1]',
        message: 'unknown level "Nice" in dimension "city"',
      },
    ]);
  });

  it('rejects keys with line breaks from multi-line cells', () => {
    expect(errorsOf(parseMatrixCsv('tone\n"play\nful"\n', limits), 'invalid')).toEqual([
      { row: 2, column: 'tone', message: 'level key contains control characters' },
    ]);
  });

  it('caps the number of errors reported', () => {
    const rows = Array.from({ length: 150 }, () => 'dup');
    const csv = `tone\n${rows.join('\n')}\n`;
    const errors = errorsOf(
      parseMatrixCsv(csv, { ...limits, maxLevelsPerDimension: 500 }),
      'invalid',
    );
    expect(errors).toHaveLength(101);
    expect(errors[99]).toEqual({
      row: 102,
      column: 'tone',
      message: 'duplicate level key "dup" (first at row 2)',
    });
    expect(errors[100]).toEqual({ message: '49 more errors not listed' });
  });

  it('checks only what fits within the limits, so huge files stay cheap to reject', () => {
    const rows = Array.from({ length: 5000 }, () => 'dup');
    const errors = errorsOf(parseMatrixCsv(`tone\n${rows.join('\n')}\n`, limits), 'invalid');
    // 49 duplicates among the first 50 levels, then one error for the rest.
    expect(errors).toHaveLength(50);
    expect(errors[49]).toEqual({
      row: 52,
      column: 'tone',
      message: 'too many levels in dimension "tone": 5000 (the limit is 50)',
    });
  });
});
