#!/usr/bin/env node
// The npm registry reachable here lacks some platform-specific optional packages
// (some platform builds of native packages at the pinned versions), so `npm install`
// skips them and leaves package-lock.json naming optional dependencies it has no entry
// for, which `npm ci` then rejects ("Missing: ... from lock file"). This drops those
// dangling optional names from the lock. Run it after every `npm install`:
//   npm install && node .ci/prune-lock.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const have = new Set(Object.keys(lock.packages).map((k) => k.replace(/^.*node_modules\//, '')));
let dropped = 0;
for (const entry of Object.values(lock.packages)) {
  const opt = entry.optionalDependencies;
  if (!opt) continue;
  for (const name of Object.keys(opt)) {
    if (!have.has(name)) {
      delete opt[name];
      dropped++;
    }
  }
  if (Object.keys(opt).length === 0) delete entry.optionalDependencies;
}
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`prune-lock: dropped ${dropped} optional dependencies the registry does not serve`);
