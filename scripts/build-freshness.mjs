// Which parts of dist/ must be rebuilt: THE place that decides it, for `npm start` (build what is
// stale, then run) and `npm run build` (build everything, then record it). Plain JavaScript: it
// runs before anything is compiled.
//
// A step is stale when it was never recorded as built, when any output it produced (or must
// produce) is missing, or when any of its sources changed after its last build started. A
// successful build records, per step, when it started and every file it wrote
// (dist/.build-state.json); comparing sources with that start time rather than with the outputs'
// own times matters because incremental tsc does not rewrite an output whose source was touched
// but not changed, and because a file edited while the build ran must make the next start rebuild.
import fs from 'node:fs';
import path from 'node:path';

export const STATE_FILE = 'dist/.build-state.json';

/** Every step reads these: the dependency set, and the build logic itself. */
const BUILD_INPUTS = ['package.json', 'package-lock.json', 'scripts/build-freshness.mjs', 'scripts/build.mjs'];
const TS_SOURCE = /\.(ts|tsx|mts|cts|json)$/;
const TSC_DIRS = ['daemon', 'cli', 'test', 'scripts'];

/**
 * The build, in order. sources(root): files the step reads; entries(root): where the local import
 * graph it bundles starts (every file reachable from them is a source too); expected(root): outputs
 * it must produce, besides every file its last run wrote (recorded); outDirs: where it writes.
 */
export const BUILD_STEPS = [
  {
    name: 'tsc',
    what: 'daemon and CLI',
    sources: (root) => [...TSC_DIRS.flatMap((dir) => walk(root, dir).filter((f) => TS_SOURCE.test(f))), 'tsconfig.json', ...BUILD_INPUTS],
    // Each compiled file (a source added with an old time is caught here), and the CLI runnable as `agor`.
    expected: (root) => [
      ...TSC_DIRS.flatMap((dir) => walk(root, dir).filter((f) => /\.m?ts$/.test(f) && !/\.d\.m?ts$/.test(f))).map((f) => `dist/${f.replace(/ts$/, 'js')}`),
      { file: 'dist/cli/main.js', executable: true },
    ],
    outDirs: TSC_DIRS.map((dir) => `dist/${dir}`),
  },
  {
    name: 'ui',
    what: 'web UI',
    // All of ui/, and what it imports from the daemon (the typed *.shared.ts files and theirs).
    sources: (root) => [...walk(root, 'ui'), ...BUILD_INPUTS],
    entries: (root) => walk(root, 'ui/src'),
    expected: () => ['dist/ui/index.html', 'dist/ui/index.html.gz'],
    outDirs: ['dist/ui'],
  },
  {
    name: 'agor-priv',
    what: 'agor-priv bundle',
    sources: () => ['scripts/build-bundles.mjs', ...BUILD_INPUTS],
    entries: () => ['daemon/priv/main.ts'],
    expected: () => ['dist/priv/agor-priv.mjs'],
    outDirs: ['dist/priv'],
  },
  {
    name: 'agor-executor',
    what: 'executor bundle',
    sources: () => ['scripts/build-bundles.mjs', ...BUILD_INPUTS],
    entries: () => ['daemon/executor/main.ts'],
    expected: () => ['dist/executor/agor-executor.mjs'],
    outDirs: ['dist/executor'],
  },
];

/** Files under `dir` (relative to root, `/`-separated), skipping node_modules and dot-entries. */
export function walk(root, dir) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') return [];
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return walk(root, rel);
    return entry.isFile() ? [rel] : [];
  });
}

// Relative specifiers in static imports and re-exports (type-only ones too: the UI typecheck reads
// them), side-effect imports and literal dynamic imports.
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"\n]+)['"]/g;
const SCANNED = /\.(ts|tsx|mts|js|mjs)$/;

/** The file a relative specifier names, as TypeScript (NodeNext or bundler resolution) finds it. */
function resolveImport(root, from, specifier) {
  const base = path.posix.join(path.posix.dirname(from), specifier);
  const stem = base.replace(/\.(m?js)$/, '');
  const candidates = /\.m?js$/.test(base)
    ? [`${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, base]
    : [base, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`, `${base}/index.tsx`];
  return candidates.find((c) => fs.statSync(path.join(root, c), { throwIfNoEntry: false })?.isFile());
}

/**
 * Every local file reachable from `entries` through relative imports (package imports are covered
 * by package-lock.json). `missing` lists imports that name no file: a deleted source.
 */
export function localImportClosure(root, entries) {
  const files = new Set();
  const missing = [];
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop();
    if (files.has(file)) continue;
    files.add(file);
    if (!SCANNED.test(file)) continue;
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    for (const [, specifier] of text.matchAll(IMPORT)) {
      const target = resolveImport(root, file, specifier);
      if (target) queue.push(target);
      else missing.push(`${path.posix.join(path.posix.dirname(file), specifier)} (imported by ${file})`);
    }
  }
  return { files: [...files], missing };
}

export function readState(root) {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, STATE_FILE), 'utf8'));
  } catch {
    return { steps: {} };
  }
}

/** Why `step` must be rebuilt, or null when its outputs are all there and newer than every source. */
export function staleReason(root, step, state = readState(root)) {
  const built = state.steps?.[step.name];
  if (!built) return 'not built yet';
  for (const out of [...built.outputs, ...step.expected(root)]) {
    const { file, executable } = typeof out === 'string' ? { file: out, executable: false } : out;
    const stat = fs.statSync(path.join(root, file), { throwIfNoEntry: false });
    if (!stat) return `${file} is missing`;
    if (executable && (stat.mode & 0o111) === 0) return `${file} is not executable`;
  }
  const closure = step.entries ? localImportClosure(root, step.entries(root)) : { files: [], missing: [] };
  // A deleted source that is still imported: the build must run (and say what is missing).
  if (closure.missing.length > 0) return `${closure.missing[0]} is missing`;
  for (const file of new Set([...step.sources(root), ...closure.files])) {
    const stat = fs.statSync(path.join(root, file), { throwIfNoEntry: false });
    if (!stat) continue; // an optional input (e.g. no package-lock.json)
    if (stat.mtimeMs > built.started_at) return `${file} changed`;
  }
  return null;
}

/** The steps to run, in build order, each with why. */
export function staleSteps(root) {
  const state = readState(root);
  return BUILD_STEPS.flatMap((step) => {
    const reason = staleReason(root, step, state);
    return reason ? [{ step, reason }] : [];
  });
}

/** After `step` succeeded: remember when it started and every file in its output folders. */
export function recordBuilt(root, step, startedAt) {
  const state = readState(root);
  const outputs = step.outDirs.flatMap((dir) => walk(root, dir));
  state.steps = { ...state.steps, [step.name]: { started_at: startedAt, outputs } };
  fs.mkdirSync(path.dirname(path.join(root, STATE_FILE)), { recursive: true });
  fs.writeFileSync(path.join(root, STATE_FILE), JSON.stringify(state, null, 1) + '\n');
}

/** Forgets a step (before rebuilding it), so a build that fails half-way is not taken as done. */
export function forgetBuilt(root, step) {
  const state = readState(root);
  if (!state.steps?.[step.name]) return;
  delete state.steps[step.name];
  fs.writeFileSync(path.join(root, STATE_FILE), JSON.stringify(state, null, 1) + '\n');
}
