// Types of bin/sources.mjs for the TypeScript code that uses it (bench, tests).
export declare const SOURCE_DIRS: readonly string[];
export declare const EXTRA_FILES: readonly string[];
export declare const EXTRA_DIRS: readonly string[];
export declare const MANIFEST: string;
export declare function sourceFiles(root: string): string[];
export declare function snapshot(root: string): Record<string, [number, number]>;
export declare function buildIsFresh(root: string): boolean;
