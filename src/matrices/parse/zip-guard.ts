import { promisify } from 'node:util';
import { inflateRaw } from 'node:zlib';

const inflateRawAsync = promisify(inflateRaw);

type ZipCheck = { ok: true } | { ok: false; kind: 'malformed' | 'too_large'; message: string };

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const ZIP64_MARKER = 0xffffffff;

/**
 * exceljs (via JSZip) inflates every part of the archive into memory before looking at it, so a
 * 2 MB upload could inflate to gigabytes. This walks the central directory and inflates each
 * entry with a hard output cap first: the declared sizes alone could lie.
 */
export async function checkZip(buf: Buffer, maxUnzippedBytes: number): Promise<ZipCheck> {
  const corrupt = (): ZipCheck => ({
    ok: false,
    kind: 'malformed',
    message: 'the .xlsx file is corrupt (its ZIP structure is damaged)',
  });
  const tooLarge = (): ZipCheck => ({
    ok: false,
    kind: 'too_large',
    message: `the .xlsx file unpacks to more than ${maxUnzippedBytes} bytes`,
  });

  const eocd = findEndOfCentralDirectory(buf);
  if (eocd < 0) return corrupt();
  const entries = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (cdOffset === ZIP64_MARKER || cdOffset + cdSize > eocd) return corrupt();

  let budget = maxUnzippedBytes;
  let p = cdOffset;
  for (let i = 0; i < entries; i++) {
    if (p + 46 > eocd || buf.readUInt32LE(p) !== CENTRAL_SIGNATURE) return corrupt();
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const compressedSize = buf.readUInt32LE(p + 20);
    const declaredSize = buf.readUInt32LE(p + 24);
    const nameLength = buf.readUInt16LE(p + 28);
    const headerOffset = buf.readUInt32LE(p + 42);
    p += 46 + nameLength + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);

    if (declaredSize === ZIP64_MARKER || declaredSize > budget) return tooLarge();
    if (flags & 0x1) {
      return { ok: false, kind: 'malformed', message: 'the .xlsx file is encrypted' };
    }
    if (headerOffset + 30 > buf.length || buf.readUInt32LE(headerOffset) !== LOCAL_SIGNATURE) {
      return corrupt();
    }
    const start =
      headerOffset + 30 + buf.readUInt16LE(headerOffset + 26) + buf.readUInt16LE(headerOffset + 28);
    if (start + compressedSize > buf.length) return corrupt();
    const data = buf.subarray(start, start + compressedSize);

    let size: number;
    if (method === 0) {
      size = compressedSize;
    } else if (method === 8) {
      try {
        // One byte over the budget is enough to know it is exceeded.
        size = (await inflateRawAsync(data, { maxOutputLength: budget + 1 })).byteLength;
      } catch (err) {
        if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') return tooLarge();
        return corrupt();
      }
    } else {
      return corrupt();
    }
    if (size > budget) return tooLarge();
    budget -= size;
  }
  return { ok: true };
}

function findEndOfCentralDirectory(buf: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const lowest = Math.max(0, buf.length - 22 - 0xffff);
  for (let i = buf.length - 22; i >= lowest; i--) {
    if (buf.readUInt32LE(i) === EOCD_SIGNATURE) return i;
  }
  return -1;
}
