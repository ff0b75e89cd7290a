import { InputError } from '../../sim/validate/inputError.js';
import type { ModelCard } from '../../sim/model/card.js';
import { SPACE_VERSION } from '../space.js';
import { readLabelFile, type LabelHeader } from '../label/file.js';
import type { LabelRecord } from '../label/job.js';
import { modelHash } from '../label/run.js';

/**
 * Label files for training and evaluation, checked to belong together: one design space
 * (this Tessera's), one simulator version, one model and one workload. A truncated or
 * corrupt file is a one-line error naming the file and a fix; nothing is read silently.
 */
export interface LabelSet {
  readonly header: LabelHeader;
  readonly labels: LabelRecord[];
  readonly files: readonly string[];
}

export function readLabelSets(files: readonly string[], expect?: { card?: ModelCard; simulatorVersion?: string; flag?: string; onTruncatedTail?: (file: string, offset: number) => void }): LabelSet {
  const flag = expect?.flag ?? '--labels';
  if (!files.length) throw new InputError(flag, flag.replace(/^--/, ''), '', 'one or more label files, comma-separated', `e.g. ${flag} labels.msgpack`);
  let first: LabelHeader | undefined;
  const labels: LabelRecord[] = [];
  for (const file of files) {
    const read = readLabelFile(file);
    if (read.truncatedAt !== undefined && expect?.onTruncatedTail) expect.onTruncatedTail(file, read.truncatedAt);
    else if (read.truncatedAt !== undefined) {
      throw new InputError(file, `offset ${read.truncatedAt}`, '(truncated last frame)', 'the label file ends in a partial frame (a run was killed while writing)', `finish it with \`tessera label --resume --out ${file}\` (which drops the partial frame), or copy its first ${read.truncatedAt} bytes (head -c ${read.truncatedAt})`);
    }
    const h = read.header;
    if (h.spaceVersion !== SPACE_VERSION) throw new InputError(file, 'spaceVersion', h.spaceVersion, `labels of another design space; this Tessera's space is ${SPACE_VERSION}`, 'label again with this version of Tessera');
    if (expect?.card && (h.model.name !== expect.card.name || h.model.hash !== modelHash(expect.card))) {
      throw new InputError(file, 'model', h.model.name, `labels of another model than the surrogate's ${expect.card.name}`, `pass labels of ${expect.card.name}, or a surrogate trained on ${h.model.name}`);
    }
    if (expect?.simulatorVersion && h.simulatorVersion !== expect.simulatorVersion) {
      throw new InputError(file, 'simulatorVersion', h.simulatorVersion, `labels of another simulator version than the surrogate's ${expect.simulatorVersion}`, 'label the held-out designs with the same simulator, or retrain the surrogate');
    }
    if (first) {
      const same: [string, unknown, unknown][] = [
        ['model', `${h.model.name}/${h.model.hash}`, `${first.model.name}/${first.model.hash}`],
        ['simulatorVersion', h.simulatorVersion, first.simulatorVersion],
        ['workload', h.workload.name, first.workload.name],
      ];
      for (const [field, a, b] of same) if (a !== b) throw new InputError(file, field, a, `differs from ${files[0]}'s ${String(b)}: label files of one training set must agree`, 'pass label files of one model, simulator version and workload');
    } else first = h;
    labels.push(...read.labels);
  }
  return { header: first!, labels, files };
}
