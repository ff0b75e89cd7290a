/**
 * Process nodes Tessera models, and the highest clock each allows. The maxima are the
 * paper's high-performance clocks (arXiv 2604.07526, section 2 "Clock": 1000 / 820 /
 * 570 / 520 / 400 / 250 / 250 MHz for 3 / 5 / 7 / 10 / 14 / 22 / 28 nm), where the clock
 * is "capped at each node's maximum".
 */
export const PROCESS_NODES_NM = [3, 5, 7, 10, 14, 22, 28] as const;
export type ProcessNodeNm = (typeof PROCESS_NODES_NM)[number];

export const MAX_CLOCK_MHZ: Readonly<Record<ProcessNodeNm, number>> = {
  3: 1000,
  5: 820,
  7: 570,
  10: 520,
  14: 400,
  22: 250,
  28: 250,
};
