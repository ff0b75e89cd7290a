import * as fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { Unpackr } from 'msgpackr';
import { InputError } from '../../sim/validate/inputError.js';
import { frame, FRAME_HEADER_BYTES, MAGIC } from '../label/file.js';
import type { RunCheckpoint } from './run.js';

/**
 * Run checkpoints (docs/explore.md "Checkpoints and --resume"): two checksummed msgpack
 * frames, the label files' framing ("TSLB" | length | CRC-32 | payload): a header naming
 * the run and the hash of its settings, then the run's whole state. Written to a temporary
 * file and renamed over the old one, so a process killed while writing leaves the previous
 * checkpoint intact. A checkpoint whose frames or checksums are wrong is reported as
 * corrupt with its offset and never loaded; one of another run or settings is refused.
 */

export interface CheckpointHeader {
  readonly kind: 'tessera-explore-checkpoint';
  readonly formatVersion: 1;
  readonly runId: string;
  /** Hash of the run's settings (model, space and simulator versions, budgets, options). */
  readonly settingsHash: string;
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: true });

export function saveCheckpoint(file: string, header: CheckpointHeader, state: RunCheckpoint): void {
  const tmp = `${file}.tmp`;
  const bytes = Buffer.concat([frame(header), frame(state)]);
  const fd = fs.openSync(tmp, 'w');
  try {
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, done);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

function corrupt(file: string, offset: number, what: string): InputError {
  return new InputError(file, `offset ${offset}`, '(corrupt checkpoint)', what, 'delete the file to restart that run from its beginning (the labels already simulated are kept and reused), or start a new --out folder');
}

/** The two frames of a checkpoint file, verified. */
function frames(file: string, buf: Buffer): unknown[] {
  const out: unknown[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < FRAME_HEADER_BYTES || !buf.subarray(off, off + 4).equals(MAGIC)) throw corrupt(file, off, 'a frame is cut short or does not start with "TSLB"');
    const len = buf.readUInt32LE(off + 4);
    const payload = buf.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len);
    if (payload.length !== len) throw corrupt(file, off, 'the last frame is cut short');
    if ((crc32(payload) >>> 0) !== buf.readUInt32LE(off + 8)) throw corrupt(file, off, "a frame's CRC-32 does not match its contents");
    try {
      out.push(unpackr.unpack(payload));
    } catch {
      throw corrupt(file, off, 'a frame is not valid msgpack');
    }
    off += FRAME_HEADER_BYTES + len;
  }
  if (out.length !== 2) throw corrupt(file, 0, `expected a header and a state frame, found ${out.length} frame(s)`);
  return out;
}

/** Load a run's checkpoint, or undefined when there is none; throws InputError for a corrupt or foreign one. */
export function loadCheckpoint(file: string, expect: Pick<CheckpointHeader, 'runId' | 'settingsHash'>): RunCheckpoint | undefined {
  if (!fs.existsSync(file)) return undefined;
  const [header, state] = frames(file, fs.readFileSync(file)) as [CheckpointHeader, RunCheckpoint];
  if (header?.kind !== 'tessera-explore-checkpoint' || header.formatVersion !== 1) throw corrupt(file, 0, 'not an explore checkpoint of this format');
  if (header.runId !== expect.runId) throw new InputError(file, 'runId', header.runId, `the checkpoint belongs to run ${header.runId}, not ${expect.runId}`, 'start a new --out folder');
  if (header.settingsHash !== expect.settingsHash) throw new InputError(file, 'settings', header.settingsHash, 'the checkpoint was written with other settings (budgets, options or surrogate) than this run', 'resume with the options of the first run (see manifest.json in the folder), or start a new --out folder');
  return state;
}
