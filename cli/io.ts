import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../sim/validate/inputError.js';

/**
 * Everything the CLI touches outside the process: output streams and files. Commands
 * receive an `Io`, so tests run them in memory (the TypeScript compiler's host pattern).
 */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(file: string): Buffer;
  writeFile(file: string, data: string | Uint8Array): void;
  exists(file: string): boolean;
  /** What the path names, found by stat alone (a FIFO or device is never read to find out). */
  pathKind(file: string): 'file' | 'directory' | 'other' | 'missing';
  /** True when stdout is a terminal (colours, tables sized to it). */
  readonly isTTY: boolean;
  /** True when stderr is a terminal (progress redrawn in place; plain lines otherwise). */
  readonly stderrIsTTY: boolean;
  /** Wall-clock milliseconds, for progress rates and ETAs (the edge's clock; tests inject one). */
  now?(): number;
}

/**
 * Create the missing directories above a file one level at a time. Node's
 * `mkdirSync(dir, { recursive: true })` can spin forever under /proc (ENOENT retried), so
 * the loop here stops at the first existing ancestor and lets mkdir's own error surface.
 */
function makeParents(dir: string): void {
  const missing: string[] = [];
  let d = dir;
  while (!fs.existsSync(d)) {
    missing.push(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (let i = missing.length - 1; i >= 0; i--) fs.mkdirSync(missing[i]);
}

export const nodeIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readFile: (f) => fs.readFileSync(f),
  writeFile: (f, d) => {
    try {
      makeParents(path.dirname(path.resolve(f)));
      fs.writeFileSync(f, d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new InputError(f, 'output file', '(unwritable)', `cannot write it (${code})`, 'choose a path in a writable directory');
    }
  },
  exists: (f) => {
    try {
      return fs.statSync(f).isFile();
    } catch {
      return false;
    }
  },
  pathKind: (f) => {
    try {
      const st = fs.statSync(f);
      return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other';
    } catch {
      return 'missing';
    }
  },
  isTTY: !!process.stdout.isTTY,
  stderrIsTTY: !!process.stderr.isTTY,
  now: () => Date.now(),
};

/** An in-memory Io for tests: captures output, serves files from the real disk unless given. */
export function memoryIo(files: Record<string, string | Uint8Array> = {}): Io & { out: string; err: string; written: Map<string, string | Uint8Array> } {
  const written = new Map<string, string | Uint8Array>();
  const io = {
    out: '',
    err: '',
    written,
    isTTY: false,
    stderrIsTTY: false,
    /** A frozen clock: progress lines never fall due, however slow the machine (tests that want them inject a clock). */
    now: () => 0,
    stdout(t: string) {
      io.out += t;
    },
    stderr(t: string) {
      io.err += t;
    },
    readFile(f: string): Buffer {
      if (Object.hasOwn(files, f)) return Buffer.from(files[f]);
      const w = written.get(f);
      if (w !== undefined) return Buffer.from(w);
      return fs.readFileSync(f);
    },
    writeFile(f: string, d: string | Uint8Array) {
      written.set(f, d);
    },
    exists(f: string) {
      return Object.hasOwn(files, f) || written.has(f) || nodeIo.exists(f);
    },
    pathKind(f: string) {
      return Object.hasOwn(files, f) || written.has(f) ? 'file' : nodeIo.pathKind(f);
    },
  };
  return io;
}
