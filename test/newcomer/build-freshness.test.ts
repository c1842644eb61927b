// scripts/build-freshness.mjs: `npm start` rebuilds exactly the parts of dist/ whose sources
// changed, every part that is missing, and nothing when nothing changed. Runs on a copy of this
// checkout's sources and built dist/ whose times it sets, so the checkout itself is never touched.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build as esbuild } from 'esbuild';
import { packageRoot } from '../../daemon/version.js';
import { cleanupTempDirs, tempDir } from '../../daemon/git/test-support.js';

interface Step {
  name: string;
  outDirs: string[];
}
interface Freshness {
  BUILD_STEPS: Step[];
  staleSteps(root: string): { step: Step; reason: string }[];
  recordBuilt(root: string, step: Step, startedAt: number): void;
  localImportClosure(root: string, entries: string[]): { files: string[]; missing: string[] };
  walk(root: string, dir: string): string[];
  STATE_FILE: string;
}

const ROOT = packageRoot();
// Plain JavaScript outside the compiled tree (it runs before any build): loaded from the checkout.
const freshness = (await import(pathToFileURL(path.join(ROOT, 'scripts/build-freshness.mjs')).href)) as Freshness;

const SOURCES = ['daemon', 'cli', 'test', 'scripts', 'ui', 'package.json', 'package-lock.json', 'tsconfig.json'];
const T0 = Date.now() - 3600_000; // every source "an hour ago", the build a second later
let copy: string;

/** Sets the mtime of every file under `dir` of the copy to `at`. */
function age(dir: string, at: number): void {
  const abs = path.join(copy, dir);
  if (fs.statSync(abs).isFile()) return fs.utimesSync(abs, at / 1000, at / 1000);
  for (const f of freshness.walk(copy, dir)) fs.utimesSync(path.join(copy, f), at / 1000, at / 1000);
}

function stale(): string[] {
  return freshness.staleSteps(copy).map(({ step }) => step.name);
}

/** Runs `check` with `file` of the copy edited now (its time), then puts its old time back. */
function touched(file: string, check: () => void): void {
  const abs = path.join(copy, file);
  const before = fs.statSync(abs);
  fs.utimesSync(abs, new Date(), new Date());
  try {
    check();
  } finally {
    fs.utimesSync(abs, before.atime, before.mtime);
  }
}

before(() => {
  copy = tempDir('agor-freshness-');
  for (const entry of SOURCES) fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true, filter: (src) => !src.includes('node_modules') });
  assert.ok(fs.existsSync(path.join(ROOT, 'dist/ui/index.html')), 'the checkout is built (npm run build)');
  fs.cpSync(path.join(ROOT, 'dist'), path.join(copy, 'dist'), { recursive: true });
  fs.rmSync(path.join(copy, freshness.STATE_FILE), { force: true });
  for (const entry of SOURCES) age(entry, T0);
});
after(cleanupTempDirs);

describe('build freshness (npm start)', () => {
  it('with no record of a build, every step is built', () => {
    assert.deepEqual(stale(), ['tsc', 'ui', 'agor-priv', 'agor-executor']);
    assert.match(freshness.staleSteps(copy)[0]!.reason, /not built yet/);
  });

  it('after a build, nothing is rebuilt when nothing changed', () => {
    for (const step of freshness.BUILD_STEPS) freshness.recordBuilt(copy, step, T0 + 1000);
    assert.deepEqual(stale(), []);
  });

  it('a changed source rebuilds exactly the steps that read it', () => {
    const cases: [string, string[]][] = [
      ['ui/src/index.css', ['ui']],
      ['ui/index.html', ['ui']],
      ['ui/vite.config.ts', ['ui']],
      ['ui/tsconfig.json', ['ui']],
      // Imported by the UI (typed client) as well as compiled for the daemon.
      ['daemon/services/info/info.shared.ts', ['tsc', 'ui']],
      ['daemon/protocol/methods.ts', ['tsc', 'agor-executor']],
      ['daemon/priv/main.ts', ['tsc', 'agor-priv']],
      ['daemon/services/users/users.class.ts', ['tsc']],
      ['cli/main.ts', ['tsc']],
      ['tsconfig.json', ['tsc']],
      ['scripts/build-bundles.mjs', ['agor-priv', 'agor-executor']],
      ['package-lock.json', ['tsc', 'ui', 'agor-priv', 'agor-executor']],
      ['scripts/build-freshness.mjs', ['tsc', 'ui', 'agor-priv', 'agor-executor']],
    ];
    for (const [file, steps] of cases) {
      touched(file, () => {
        assert.deepEqual(stale(), steps, file);
        assert.match(freshness.staleSteps(copy)[0]!.reason, new RegExp(`${file.replace(/\./g, '\\.')} changed`));
      });
    }
    assert.deepEqual(stale(), [], 'each time restored');
  });

  it('a missing output rebuilds its step, whichever output it is', () => {
    const asset = fs.readdirSync(path.join(copy, 'dist/ui/assets')).find((f) => f.endsWith('.css'))!;
    const chunk = fs.readdirSync(path.join(copy, 'dist/executor/chunks'))[0]!;
    const cases: [string, string][] = [
      [`dist/ui/assets/${asset}`, 'ui'],
      [`dist/ui/assets/${asset}.gz`, 'ui'],
      [`dist/executor/chunks/${chunk}`, 'agor-executor'],
      ['dist/priv/agor-priv.mjs', 'agor-priv'],
      ['dist/daemon/http/static-ui.js', 'tsc'],
    ];
    for (const [file, step] of cases) {
      const abs = path.join(copy, file);
      const saved = fs.readFileSync(abs);
      fs.rmSync(abs);
      try {
        assert.deepEqual(stale(), [step], file);
        assert.equal(freshness.staleSteps(copy)[0]!.reason, `${file} is missing`);
      } finally {
        fs.writeFileSync(abs, saved);
      }
    }
    assert.deepEqual(stale(), []);
  });

  it('the CLI must stay executable, a new source needs its output, a deleted import rebuilds', () => {
    const cli = path.join(copy, 'dist/cli/main.js');
    fs.chmodSync(cli, 0o644);
    assert.deepEqual(stale(), ['tsc']);
    fs.chmodSync(cli, 0o755);

    // Copied in with an old time (git checkout of an old commit, cp -p): no output yet.
    const added = path.join(copy, 'daemon/added-later.ts');
    fs.writeFileSync(added, 'export const x = 1;\n');
    fs.utimesSync(added, T0 / 1000, T0 / 1000);
    assert.deepEqual(stale(), ['tsc']);
    fs.rmSync(added);

    const imported = path.join(copy, 'daemon/protocol/line-reader.ts');
    const saved = fs.readFileSync(imported);
    fs.rmSync(imported);
    try {
      const steps = freshness.staleSteps(copy);
      assert.ok(steps.some(({ step, reason }) => step.name === 'agor-executor' && /daemon\/protocol\/line-reader\.js \(imported by .*\) is missing/.test(reason)), JSON.stringify(steps.map((s) => s.reason)));
    } finally {
      fs.writeFileSync(imported, saved);
      fs.utimesSync(imported, T0 / 1000, T0 / 1000);
    }
    assert.deepEqual(stale(), []);
  });
});

describe('the import graph freshness follows is the one the bundlers follow', () => {
  // esbuild resolves the real graph (type-only imports erased, so its set may be smaller). A file
  // it reads that the scanner misses would be a change `npm start` does not rebuild for.
  const graphs: [string, string[]][] = [
    ['executor bundle', ['daemon/executor/main.ts']],
    ['agor-priv bundle', ['daemon/priv/main.ts']],
    ['web UI', ['ui/src/main.tsx']],
  ];
  for (const [what, entries] of graphs) {
    it(`${what}: every local file esbuild reads is in the closure, and no import is unresolved`, async () => {
      const result = await esbuild({
        entryPoints: entries.map((e) => path.join(ROOT, e)),
        bundle: true,
        write: false,
        metafile: true,
        platform: what === 'web UI' ? 'browser' : 'node',
        format: 'esm',
        packages: 'external',
        outdir: path.join(ROOT, 'dist/.freshness-probe'),
        loader: { '.css': 'empty' },
        logLevel: 'silent',
        absWorkingDir: ROOT,
      });
      const read = Object.keys(result.metafile!.inputs).filter((f) => !f.includes('node_modules'));
      assert.ok(read.length > 3, `esbuild read ${read.length} files`);
      const closure = freshness.localImportClosure(ROOT, what === 'web UI' ? freshness.walk(ROOT, 'ui/src') : entries);
      assert.deepEqual(closure.missing, []);
      const files = new Set(closure.files);
      assert.deepEqual(read.filter((f) => !files.has(f)), []);
    });
  }
});
