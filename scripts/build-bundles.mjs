#!/usr/bin/env node
// Bundles the programs that run outside the daemon into single files with esbuild (run by
// `npm run build` after tsc). One entry per program; add a program by adding one line to BUNDLES.
//   node scripts/build-bundles.mjs            all bundles
//   node scripts/build-bundles.mjs agor-priv  only the named ones
// `onlyOwnDir: true` enforces what a privileged program may import: Node built-ins (`node:*`) and
// files in its own folder — nothing from node_modules, nothing from the rest of the daemon.
// Other bundles inline their npm dependencies; CommonJS ones get a `require` (createRequire) so their
// require('node:...') calls work inside the ESM output.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const BUNDLES = [
  { name: 'agor-priv', entry: 'daemon/priv/main.ts', outfile: 'dist/priv/agor-priv.mjs', onlyOwnDir: true },
  // Agent SDKs (external: they find native binaries next to their package) load only with their agent.
  { name: 'agor-executor', entry: 'daemon/executor/main.ts', outfile: 'dist/executor/agor-executor.mjs', external: ['@anthropic-ai/*', '@openai/*', '@google/*'], splitting: true },
];

/** Refuses every import that is neither a `node:` built-in nor a file in `dir`. */
function onlyOwnDirPlugin(dir) {
  return {
    name: 'only-own-dir',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (args.path.startsWith('node:')) return { path: args.path, external: true };
        if (!args.path.startsWith('./') && !args.path.startsWith('../')) {
          return { errors: [{ text: `${args.importer} imports ${JSON.stringify(args.path)}: only node: built-ins and files in ${path.relative(root, dir)}/ are allowed` }] };
        }
        const target = path.resolve(args.resolveDir, args.path);
        if (!target.startsWith(dir + path.sep)) {
          return { errors: [{ text: `${args.importer} imports ${JSON.stringify(args.path)}, outside ${path.relative(root, dir)}/` }] };
        }
        return undefined;
      });
    },
  };
}

async function bundle(spec) {
  const entry = path.join(root, spec.entry);
  // Chunks are content-hashed: drop the previous build's, or stale ones pile up.
  if (spec.splitting) fs.rmSync(path.join(path.dirname(path.join(root, spec.outfile)), 'chunks'), { recursive: true, force: true });
  const result = await build({
    entryPoints: [entry],
    // splitting: code behind a dynamic import() goes to chunks/ beside the entry file, so what it
    // imports (an external agent SDK) is only loaded when that code runs.
    ...(spec.splitting
      ? { outdir: path.dirname(path.join(root, spec.outfile)), splitting: true, entryNames: path.basename(spec.outfile, '.mjs'), chunkNames: 'chunks/[name]-[hash]', outExtension: { '.js': '.mjs' } }
      : { outfile: path.join(root, spec.outfile) }),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: spec.onlyOwnDir ? undefined : 'bundle',
    external: spec.external,
    plugins: spec.onlyOwnDir ? [onlyOwnDirPlugin(path.dirname(entry))] : [],
    banner: spec.onlyOwnDir ? undefined : { js: "import { createRequire as __agorCreateRequire } from 'node:module';\nconst require = __agorCreateRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs);
  console.log(`built ${spec.outfile} (${inputs.length} source files)`);
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !BUNDLES.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(`build-bundles: unknown bundle(s) ${unknown.join(', ')}; known: ${BUNDLES.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
try {
  for (const spec of BUNDLES) if (wanted.length === 0 || wanted.includes(spec.name)) await bundle(spec);
} catch {
  // esbuild has already printed the errors.
  process.exit(1);
}
