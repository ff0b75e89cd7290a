/**
 * Jest runs the test files through jest-light-runner: in plain Node worker threads, with
 * TypeScript loaded by tsx (`node --import tsx`, see package.json), not inside Jest's vm
 * sandbox. In the sandbox every lookup of a global such as `Math` goes through the vm
 * context's interceptors and was measured ~200x slower (2e7 `Math.max` calls: 7.9 s vs
 * 0.04 s), which made the simulator-heavy suites 5-13x slower than the same code outside
 * Jest. The light runner supports what these tests use: describe/test/expect and -t.
 * What it does not do: enforce test timeouts (test/setup-timeout.ts adds a per-test limit)
 * or isolate test files from each other (with one worker, Jest's default on 2 cores, they
 * share the main thread's module cache; no test mutates shared built-ins or caches).
 */
export default {
  runner: 'jest-light-runner',
  setupFilesAfterEnv: ['<rootDir>/test/setup-timeout.ts'],
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};
