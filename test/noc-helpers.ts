import { parseInput } from '../sim/validate/zod.js';
import { DesignSchema, type Design } from '../sim/design/design.js';

/** A design for NoC tests: a rows x cols mesh with the given NoC fields (defaults elsewhere). */
export function nocTestDesign(rows: number, cols: number, noc: Record<string, unknown> = {}): Design {
  return parseInput(
    DesignSchema,
    {
      kind: 'design',
      schemaVersion: 1,
      name: `noc-${rows}x${cols}`,
      processNodeNm: 7,
      clockMHz: 500,
      mesh: { rows, cols },
      noc: { flitBits: 128, virtualChannels: 2, bufferDepthFlits: 4, ...noc },
      tile: { fetchWidth: 2, reservationStations: 8, vlenBits: 256, dmemKiB: 64, wmemKiB: 256, imemKiB: 8, scalarWritePorts: 1, vectorWritePorts: 1, scalarDispatchPorts: 1, vectorDispatchPorts: 1 },
    },
    'test',
  );
}
