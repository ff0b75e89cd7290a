import * as fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { InputError } from '../../sim/validate/inputError.js';
import type { LabelRecord } from './job.js';

/**
 * Label files (docs/search.md "Label files"): a sequence of frames, each
 *
 *   magic "TSLB" (4 bytes) | payload length (u32 LE) | CRC-32 of the payload (u32 LE) | payload
 *
 * where the payload is one msgpack record. The first frame is the header (the run's
 * settings and versions), every later frame one label, appended (with one write) as the
 * label completes, in completion order. A process killed at any moment leaves whole frames
 * and at most one partial frame at the end: readers report that truncated tail with its
 * offset and drop it; `--resume` cuts it off and carries on. A frame whose checksum or
 * magic is wrong is corruption, reported with its offset and never read.
 */

export const MAGIC = Buffer.from('TSLB', 'latin1');
export const FRAME_HEADER_BYTES = 12;
export const LABEL_FORMAT_VERSION = 1;

export interface LabelHeader {
  readonly kind: 'tessera-labels';
  readonly formatVersion: number;
  readonly spaceVersion: string;
  readonly simulatorVersion: string;
  readonly model: { readonly name: string; readonly hash: string };
  readonly nodes: readonly number[];
  /** Labels asked for when the file was started (`--resume --count N` may raise it). */
  readonly count: number;
  readonly seed: number;
  readonly fidelity: string;
  readonly workload: { readonly name: string; readonly description: string };
  readonly eventLimit: number;
  readonly tech: string;
  readonly createdAt: string;
}

const packr = new Packr({ useRecords: false, moreTypes: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: true });

/** One frame for a record. */
export function frame(record: unknown): Buffer {
  const payload = Buffer.from(packr.pack(record));
  const head = Buffer.alloc(FRAME_HEADER_BYTES);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(payload.length, 4);
  head.writeUInt32LE(crc32(payload) >>> 0, 8);
  return Buffer.concat([head, payload]);
}

export interface ReadLabels {
  readonly header: LabelHeader;
  /** Labels by index, first occurrence kept, sorted by index. */
  readonly labels: LabelRecord[];
  /** Frames holding an index already seen (idempotent results written twice). */
  readonly duplicates: number;
  /** Where a partial last frame starts, if the file ends in one. */
  readonly truncatedAt?: number;
  /** Bytes of whole frames (the file length without the truncated tail). */
  readonly goodBytes: number;
}

/** Parse a label file's bytes; throws InputError (naming `file` and the offset) on corruption. */
export function parseLabelFile(bytes: Uint8Array, file: string): ReadLabels {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: unknown[] = [];
  let off = 0;
  let truncatedAt: number | undefined;
  while (off < buf.length) {
    if (buf.length - off < FRAME_HEADER_BYTES) {
      truncatedAt = off;
      break;
    }
    if (!buf.subarray(off, off + 4).equals(MAGIC)) {
      if (off === 0) throw new InputError(file, '', '(not a label file)', 'expected a Tessera label file (frames starting "TSLB")', 'pass a file written by `tessera label --out`');
      throw new InputError(file, `offset ${off}`, '(bad frame marker)', 'corrupt label file: a frame does not start with "TSLB"', `recover the labels before offset ${off} by copying that many bytes (head -c ${off}), or label again`);
    }
    const len = buf.readUInt32LE(off + 4);
    const crc = buf.readUInt32LE(off + 8);
    if (buf.length - off - FRAME_HEADER_BYTES < len) {
      truncatedAt = off;
      break;
    }
    const payload = buf.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len);
    if ((crc32(payload) >>> 0) !== crc) {
      throw new InputError(file, `offset ${off}`, '(checksum mismatch)', 'corrupt label file: a frame\'s CRC-32 does not match its contents', `recover the labels before offset ${off} by copying that many bytes (head -c ${off}), or label again`);
    }
    let rec: unknown;
    try {
      rec = unpackr.unpack(payload);
    } catch {
      throw new InputError(file, `offset ${off}`, '(undecodable frame)', 'corrupt label file: a frame is not valid msgpack', `recover the labels before offset ${off} (head -c ${off}), or label again`);
    }
    records.push(rec);
    off += FRAME_HEADER_BYTES + len;
  }
  if (records.length === 0) {
    throw new InputError(file, '', truncatedAt !== undefined ? '(truncated header)' : '(empty file)', 'a label file starts with a complete header frame', 'label again with `tessera label --out FILE`');
  }
  const header = records[0] as LabelHeader;
  if (header?.kind !== 'tessera-labels') throw new InputError(file, 'header', (header as any)?.kind, 'expected a Tessera label file header', 'pass a file written by `tessera label --out`');
  if (header.formatVersion !== LABEL_FORMAT_VERSION) throw new InputError(file, 'header.formatVersion', header.formatVersion, `this Tessera reads label format ${LABEL_FORMAT_VERSION}`, 'label again with this version of Tessera');
  const byIndex = new Map<number, LabelRecord>();
  let duplicates = 0;
  for (const r of records.slice(1) as LabelRecord[]) {
    if (byIndex.has(r.index)) duplicates++;
    else byIndex.set(r.index, r);
  }
  const labels = [...byIndex.values()].sort((a, b) => a.index - b.index);
  return { header, labels, duplicates, truncatedAt, goodBytes: truncatedAt ?? buf.length };
}

/** A file's bytes, or a one-line InputError naming it (`what`: "label file", "model file"; `fix`: how to get one). */
export function readBinaryFile(file: string, field: string, what: string, fix: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(file, field, '(unreadable)', code === 'ENOENT' ? `no such ${what}` : code === 'EISDIR' ? `is a directory, not a ${what}` : `cannot read it (${code})`, fix);
  }
}

/** Read a label file from disk (one-line InputError for a missing or unreadable file). */
export function readLabelFile(file: string): ReadLabels {
  return parseLabelFile(readBinaryFile(file, '', 'label file', 'check the path (label files are written by `tessera label --out FILE`)'), file);
}

/** Appends frames to a label file, one write per frame. */
export class LabelWriter {
  private constructor(
    private readonly fd: number,
    readonly file: string,
  ) {}

  /** Start a new file with its header (fails if the file exists: nothing written is ever replaced). */
  static create(file: string, header: LabelHeader): LabelWriter {
    let fd: number;
    try {
      fd = fs.openSync(file, 'wx');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new InputError(file, '--out', file, 'the label file already exists (it is never overwritten)', 'continue it with --resume, or choose another --out');
      throw new InputError(file, '--out', file, `cannot create it (${code})`, 'choose a path in a writable directory');
    }
    const w = new LabelWriter(fd, file);
    w.append(header);
    return w;
  }

  /** Continue an existing file whose whole frames end at `goodBytes` (a truncated tail is cut off). */
  static resume(file: string, goodBytes: number): LabelWriter {
    const fd = fs.openSync(file, 'r+');
    fs.ftruncateSync(fd, goodBytes);
    const w = new LabelWriter(fd, file);
    w.position = goodBytes;
    return w;
  }

  private position = 0;

  append(record: unknown): void {
    const f = frame(record);
    let done = 0;
    while (done < f.length) done += fs.writeSync(this.fd, f, done, f.length - done, this.position + done);
    this.position += f.length;
  }

  close(): void {
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }
}
