/**
 * Exit codes of every command (README "Command line"): 0 success; 1 internal error;
 * 2 bad input or usage (one line on stderr); 3 the design cannot serve the trace (the
 * result is still printed, with its reasons and fixes), so a script can test for it.
 */
export const EXIT = { ok: 0, internal: 1, input: 2, infeasible: 3 } as const;
