import { DesignSchema, type Design, type DesignInput } from '../sim/design/design.js';
import { MAX_CLOCK_MHZ, type ProcessNodeNm } from '../sim/tech/nodes.js';

/** A one-tile design at `node`, at the node's maximum clock (Vdd nominal); 256-bit flits, 1 MiB of ROM. */
export function oneTile(node: ProcessNodeNm, over: Partial<DesignInput> = {}): Design {
  return DesignSchema.parse({
    kind: 'design',
    schemaVersion: 1,
    name: `one-${node}`,
    processNodeNm: node,
    clockMHz: MAX_CLOCK_MHZ[node],
    mesh: { rows: 1, cols: 1 },
    noc: { flitBits: 256, virtualChannels: 2, bufferDepthFlits: 4 },
    tile: { fetchWidth: 2, reservationStations: 8, vlenBits: 512, dmemKiB: 64, wmemKiB: 1024, imemKiB: 8, scalarWritePorts: 1, vectorWritePorts: 2, scalarDispatchPorts: 1, vectorDispatchPorts: 1 },
    ...over,
  });
}
