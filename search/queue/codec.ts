import { createHash } from 'node:crypto';
import { Packr, Unpackr } from 'msgpackr';

/**
 * How job data and results travel through Redis: msgpack (the label file's own encoding,
 * so a label read back from the queue is the value a local run writes: Infinity, -0 and
 * typed arrays survive, which JSON would not), as base64 text inside BullMQ's JSON.
 */

const packr = new Packr({ useRecords: false, moreTypes: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: true });

export function packText(value: unknown): string {
  return Buffer.from(packr.pack(value)).toString('base64');
}

export function unpackText<T>(text: string): T {
  return unpackr.unpack(Buffer.from(text, 'base64')) as T;
}

/** Content address of a packed value (16 hex digits): equal settings share one stored copy. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
