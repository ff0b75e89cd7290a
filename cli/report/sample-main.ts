import * as fs from 'node:fs';
import { presetDesign } from '../../sim/design/presets.js';
import { DEFAULT_TECH } from '../../sim/tech/defaultTable.js';
import { powerReport } from '../../sim/power/report.js';
import { REFERENCE_ANCHORS } from '../../sim/power/reference.js';
import { syntheticRun } from './sample.js';
import { renderHtml } from './html.js';
import { renderTerminal } from './terminal.js';

/** `node --import tsx cli/report/sample-main.ts OUT.html [preset]`: write the demonstration report. */
const [out = 'sample-report.html', preset = 'hetero-6x6-5nm'] = process.argv.slice(2);
const design = presetDesign(preset);
if (!design) {
  console.error(`unknown preset ${preset}`);
  process.exit(2);
}
const report = powerReport(syntheticRun(design, DEFAULT_TECH, REFERENCE_ANCHORS['llama-3.1-8b']));
fs.writeFileSync(out, renderHtml(report));
process.stdout.write(renderTerminal(report));
console.log(`wrote ${out}`);
