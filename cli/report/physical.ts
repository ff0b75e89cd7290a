import type { Metrics } from '../../sim/power/metrics.js';
import type { PowerReport } from '../../sim/power/report.js';

/**
 * Physical-sanity lines shared by the terminal summary and the HTML report (issue 12 item
 * 9): the reticle warning with the limit's source, the die count, the router's share of the
 * tiles, and energy per token split into active and idle energy.
 */

const n3 = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3)).toString()) : String(v));

/** A warning when the chip is larger than one reticle, naming the limit's source; undefined when it fits. */
export function reticleWarning(r: PowerReport): string | undefined {
  const d = r.area.dies;
  if (d.count <= 1) return undefined;
  const fit = d.fits ? `needs ${d.count} dies (a ${d.dieRows} x ${d.dieCols} grid, largest ${n3(d.largestDieMm2)} mm2)` : `cannot be cut into dies that fit: one tile alone exceeds it`;
  return `WARNING: ${n3(r.area.totalMm2)} mm2 exceeds the reticle limit of ${n3(d.reticleLimitMm2)} mm2 (${d.reticleSource}); the chip ${fit}, joined by die-to-die links (their energy and latency are charged)`;
}

/** "A mm2 (N dies; router R% of the tiles)". */
export function areaText(r: PowerReport): string {
  const d = r.area.dies;
  return `${n3(r.area.totalMm2)} mm2 (${d.count} ${d.count === 1 ? 'die' : 'reticle-sized dies'}; router ${(100 * r.area.routerShareOfTiles).toFixed(1)}% of the tiles)`;
}

/** "E mJ (active A, idle I)": idle = leakage and the routers' always-running clocks. */
export function energyPerTokenText(m: Pick<Metrics, 'energyPerTokenJ' | 'activeEnergyPerTokenJ' | 'idleEnergyPerTokenJ'>): string {
  const mj = (j: number) => n3(j * 1000);
  return `${mj(m.energyPerTokenJ)} mJ (active ${mj(m.activeEnergyPerTokenJ)}, idle ${mj(m.idleEnergyPerTokenJ)}: leakage and always-on router clocks)`;
}
