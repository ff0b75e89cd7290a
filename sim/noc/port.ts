/**
 * The network as the rest of the chip sees it. Both NoC models (flit level and message
 * level) implement `NetworkPort`; tiles and the full-chip model use only this.
 * Tiles are numbered row-major: tile = row x cols + col (sim/design/tiles.ts).
 */

export interface NetworkMessage {
  readonly id: number;
  readonly src: number;
  readonly dst: number;
  readonly bytes: number;
  /** Free-form label the sender chose (e.g. which operand this is). */
  readonly tag: number;
  /** Cycle the message was handed to the network. */
  readonly createdAtCycles: number;
}

export type DeliveryHandler = (msg: NetworkMessage, deliveredAtCycles: number) => void;

export interface NetworkPort {
  /**
   * Send `bytes` from tile `src` to tile `dst`. `onDelivered` runs, inside the kernel,
   * in the cycle the tail flit is ejected at `dst`.
   */
  send(src: number, dst: number, bytes: number, onDelivered: DeliveryHandler, tag?: number): NetworkMessage;
  /**
   * Send the same `bytes` from `src` to every tile in `dsts`: as unicast fan-out or as a
   * tree replicated in the routers, per the design's multicast mode. `onDelivered` runs
   * once per destination.
   */
  multicast(src: number, dsts: readonly number[], bytes: number, onDelivered: DeliveryHandler, tag?: number): void;
}
