import { describe, expect, it } from 'vitest';
import {
  CsvDecodeError,
  charsetOf,
  decodeCsv,
  firstInvalidUtf8,
  StrictCsvDecoder,
} from '../../src/csv/decode.ts';

function failure(run: () => unknown): CsvDecodeError {
  try {
    run();
  } catch (err) {
    if (err instanceof CsvDecodeError) return err;
    throw err;
  }
  throw new Error('expected a CsvDecodeError');
}

/** Feeds the bytes one at a time, the worst split a stream can make. */
function byteByByte(bytes: Buffer, charset?: string): string {
  const decoder = new StrictCsvDecoder(charset);
  let text = '';
  for (const b of bytes) text += decoder.write(Uint8Array.of(b));
  return text + decoder.end();
}

const text = 'city;tone\nMontréal;"calme,\nserein"\nZürich;😀\n';

describe('strict CSV decoding', () => {
  it('reads UTF-8 with and without BOM, and UTF-16 LE/BE with a BOM, whatever the chunking', () => {
    const utf8 = Buffer.from(text);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8]);
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le);
    be.swap16();
    for (const bytes of [utf8, bom, le, be]) {
      expect(decodeCsv(bytes)).toBe(text);
      expect(byteByByte(bytes)).toBe(text);
    }
    // A BOM outranks a declared charset that contradicts it.
    expect(decodeCsv(le, 'windows-1252')).toBe(text);
  });

  it('honours a declared charset', () => {
    const cp1252 = Buffer.from('city\ncafé\n', 'latin1');
    expect(decodeCsv(cp1252, 'windows-1252')).toBe('city\ncafé\n');
    expect(decodeCsv(cp1252, 'iso-8859-1')).toBe('city\ncafé\n');
    expect(decodeCsv(Buffer.from('city\ncafé\n', 'utf16le'), 'utf-16le')).toBe('city\ncafé\n');
    expect(charsetOf('text/csv; charset="Windows-1252"')).toBe('windows-1252');
    expect(charsetOf('text/csv;CHARSET=utf-8 ; header=present')).toBe('utf-8');
    expect(charsetOf('text/csv')).toBeUndefined();
  });

  it('rejects bytes that are not UTF-8, naming the row of the first one', () => {
    // Row 3 holds a quoted line break, so the bad byte on the fourth line is in row 3.
    const bytes = Buffer.concat([
      Buffer.from('city;tone\nParis;calm\nRome;"calme,\nserein ', 'utf8'),
      Buffer.from('é', 'latin1'),
      Buffer.from('"\n'),
    ]);
    for (const run of [() => decodeCsv(bytes), () => byteByByte(bytes)]) {
      const err = failure(run);
      expect(err.row).toBe(3);
      expect(err.message).toBe(
        'the file is not UTF-8 text; save it as "CSV UTF-8" (the first invalid byte is in row 3)',
      );
    }
    // Quote-free chunks (the counter's fast path) and chunks mixing both paths agree.
    const rows = Buffer.concat([
      Buffer.from('v,d\n'.repeat(40)),
      Buffer.from('"x\ny",1\r\n'),
      Buffer.from('v,d\n'.repeat(9)),
      Buffer.from([0xc3, 0x28]),
    ]);
    for (const size of [1, 7, 64, rows.length]) {
      const decoder = new StrictCsvDecoder();
      const err = failure(() => {
        for (let i = 0; i < rows.length; i += size) decoder.write(rows.subarray(i, i + size));
        decoder.end();
      });
      expect(err.row, `chunks of ${size}`).toBe(51);
    }
    // CRLF and bare CR line ends count once each.
    const crlf = Buffer.concat([Buffer.from('a\r\nb\rc\r\n'), Buffer.from([0xff])]);
    expect(failure(() => decodeCsv(crlf)).row).toBe(4);
    // A sequence cut off by the end of the file is invalid too.
    expect(failure(() => decodeCsv(Buffer.from([0x61, 0x0a, 0xe2, 0x82]))).row).toBe(2);
  });

  it('finds the first invalid byte by the WHATWG rules', () => {
    expect(firstInvalidUtf8(Buffer.from('aé€😀'))).toBe(-1);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0xaf]))).toBe(1); // overlong
    expect(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80]))).toBe(2); // surrogate
    expect(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0); // past U+10FFFF
    expect(firstInvalidUtf8(Buffer.from([0x61, 0x80]))).toBe(1); // lone continuation
  });

  it('rejects an unknown charset as such', () => {
    const err = failure(() => decodeCsv(Buffer.from('a\n'), 'x-klingon'));
    expect(err.unsupportedCharset).toBe(true);
    expect(err.message).toMatch(/unsupported charset "x-klingon"/);
  });
});
