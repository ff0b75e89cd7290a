import type { Simulator } from '../kernel/simulator.js';
import type { Design } from '../design/design.js';
import { FlitNetwork } from './flitNetwork.js';
import { MessageNetwork } from './messageNetwork.js';
import type { Network, NetworkOptions } from './network.js';

/**
 * The NoC of a design, as the full-chip model uses it: a `NetworkPort` (send, multicast)
 * plus inspection. `model: 'flit'` simulates every flit through the router pipeline;
 * `model: 'message'` reserves links per message (fast; checked against the flit model).
 * Counters are registered in `options.counters` per router (`router[r,c]`) and per
 * network interface (`ni[r,c]`) under the names of sim/noc/counters.ts.
 */
export function createNetwork(sim: Simulator, design: Design, options: NetworkOptions): Network {
  return options.model === 'flit' ? new FlitNetwork(sim, design, options) : new MessageNetwork(sim, design, options);
}
