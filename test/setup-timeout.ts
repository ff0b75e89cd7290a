/**
 * A per-test time limit. jest-light-runner does not enforce Jest's test timeouts, so an
 * asynchronous test whose promise never settles would stall the run instead of failing.
 * This wraps the global `test`/`it` (and `.each`, `.only`) so that each test body races a
 * timer: the default limit below, or the timeout given as the test's third argument.
 * A synchronous spin cannot be interrupted from inside its thread, so tests of "never
 * hangs" run the command in a child process with a spawn timeout instead.
 */
const LIMIT_MS = Number(process.env.TESSERA_TEST_LIMIT_S ?? 300) * 1000;

type Body = (...args: any[]) => unknown;

function limited(body: Body, ms: number): Body {
  return function (this: unknown, ...args: any[]) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`test did not finish within ${ms / 1000} s (test/setup-timeout.ts)`)), ms);
    });
    const run = Promise.resolve().then(() => body.apply(this, args));
    return Promise.race([run, limit]).finally(() => clearTimeout(timer));
  };
}

const g = globalThis as any;
if (!g.test.__limited) {
  const orig = g.test;
  const wrap = (register: (name: string, body: Body, ms?: number) => unknown) => (name: string, body: Body, ms?: number) => register(name, limited(body, ms ?? LIMIT_MS), ms);
  // keep every static of circus's test (skip, todo, failing, ...); limit the ones that run a body
  const test: any = Object.assign(wrap(orig), orig);
  test.only = wrap(orig.only);
  test.each = (...table: unknown[]) => wrap(orig.each(...table));
  test.__limited = true;
  g.test = test;
  g.it = test;
}
