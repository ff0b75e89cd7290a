/**
 * A problem with user input (a model card, trace, design, option or file). It renders
 * as one line naming the file, the field, the bad value, what is allowed and a fix;
 * the CLI prints it without a stack trace and exits with code 2.
 */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    readonly file: string,
    readonly field: string,
    readonly value: unknown,
    readonly allowed: string,
    readonly fix?: string,
  ) {
    super(oneLine(`${file}: ${field || '(top level)'} = ${showValue(value)}: ${allowed}${fix ? `; fix: ${fix}` : ''}`));
  }

  /** The same error attributed to another file name (loaders know the path, parsers do not). */
  withFile(file: string): InputError {
    return new InputError(file, this.field, this.value, this.allowed, this.fix);
  }
}

/** Compact, single-line rendering of a JSON-ish value for messages. */
export function showValue(value: unknown, max = 60): string {
  let s: string;
  if (value === undefined) s = '(missing)';
  else if (typeof value === 'string') s = /^\(.*\)$/.test(value) ? value : JSON.stringify(value); // "(binary data)" etc. are descriptions
  else if (typeof value === 'number') s = Number.isFinite(value) ? String(value) : String(value);
  else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      s = String(value);
    }
  }
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ');
}
