#!/usr/bin/env node
// Installs what the executor bundle loads at run time — the agent SDKs it leaves external
// (scripts/build-bundles.mjs) and everything they need: their dependencies, peer dependencies and
// the optional platform packages that carry the native CLIs (Claude Code, Codex) — as a
// self-contained node_modules tree. Run by scripts/install-unix-isolation.sh as root.
//
//   node install-executor-runtime.mjs <checkout> <runtimes-dir> <package>...
//
// The closure is computed from the checkout's installed packages with Node's own resolution rule
// (a dependency is looked up in <pkg>/node_modules, then in each node_modules above), so it is
// exactly what `require`/`import` would load. Each package is copied without its nested
// node_modules (nested packages of the closure are copied on their own), files 0644/0755, directories
// 0755, no setuid/setgid, symlinks only when relative and inside their package.
//
// Trust: like the rest of the install (dist/priv/agor-priv.mjs runs as root), the checkout must be
// writable by root only; nothing copied here ever runs as root, only as the executing identities.
//
// The result goes to <runtimes-dir>/<fingerprint>/node_modules, where the fingerprint covers every
// copied file's path, size, mode and mtime: an unchanged checkout gives the same directory, which is
// then reused instead of copied again (re-running the installer is cheap). Prints the fingerprint
// directory's name on stdout; progress on stderr.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const [checkout, runtimesDir, ...roots] = process.argv.slice(2);
if (!checkout || !runtimesDir || roots.length === 0) {
  process.stderr.write('usage: install-executor-runtime.mjs <checkout> <runtimes-dir> <package>...\n');
  process.exit(64);
}
const topLink = path.join(path.resolve(checkout), 'node_modules');
if (!fs.existsSync(topLink)) {
  process.stderr.write(`install-executor-runtime: ${topLink} is missing: run npm ci first\n`);
  process.exit(66);
}
const top = fs.realpathSync(topLink);
const say = (line) => process.stderr.write(`install-executor-runtime: ${line}\n`);

function readPackage(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  } catch {
    return null;
  }
}

/** Node's lookup of `name` from the package in `dir` (real path), bounded by the checkout's node_modules. */
function resolveFrom(dir, name) {
  for (let d = dir; d === top || d.startsWith(top + path.sep); d = path.dirname(d)) {
    if (path.basename(d) === 'node_modules') continue;
    const candidate = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
  }
  const candidate = path.join(top, name);
  return fs.existsSync(path.join(candidate, 'package.json')) ? fs.realpathSync(candidate) : null;
}

// ---- the closure ----
const closure = new Map(); // real dir -> { rel, name, version }
const queue = [];
for (const name of roots) {
  const dir = resolveFrom(top, name);
  if (!dir) {
    say(`warning: ${name} is not installed in ${top}: its agent will not run (npm ci without --omit=optional)`);
    continue;
  }
  queue.push(dir);
}
while (queue.length > 0) {
  const dir = queue.shift();
  if (closure.has(dir)) continue;
  if (!dir.startsWith(top + path.sep)) throw new Error(`${dir} is outside ${top}`);
  const pkg = readPackage(dir);
  closure.set(dir, { rel: path.relative(top, dir), name: pkg.name, version: pkg.version });
  const optionalPeers = new Set(Object.entries(pkg.peerDependenciesMeta ?? {}).filter(([, m]) => m?.optional).map(([n]) => n));
  const edges = [
    ...Object.keys(pkg.dependencies ?? {}).map((n) => [n, 'required']),
    ...Object.keys(pkg.optionalDependencies ?? {}).map((n) => [n, 'optional']),
    ...Object.keys(pkg.peerDependencies ?? {}).map((n) => [n, optionalPeers.has(n) ? 'optional' : 'peer']),
  ];
  let optionalFound = 0;
  for (const [name, kind] of edges) {
    const found = resolveFrom(dir, name);
    if (found && kind === 'optional') optionalFound += 1;
    if (found) queue.push(found);
    else if (kind === 'required') throw new Error(`${pkg.name} needs ${name}, which is not installed`);
    else if (kind === 'peer') say(`warning: ${pkg.name}'s peer dependency ${name} is not installed`);
    // a missing optional dependency is another platform's binary package
  }
  if (Object.keys(pkg.optionalDependencies ?? {}).length > 0 && optionalFound === 0) {
    say(`warning: none of ${pkg.name}'s optional dependencies is installed: if it ships its CLI as a platform package, its agent will not run (npm ci without --omit=optional)`);
  }
}

// ---- the files, and the fingerprint ----
const entries = []; // { src, rel (below node_modules), kind, mode, size, link }
for (const { rel } of [...closure.values()].sort((a, b) => a.rel.localeCompare(b.rel))) {
  const pkgRoot = path.join(top, rel);
  const walk = (src, relPath) => {
    const st = fs.lstatSync(src);
    if (st.isDirectory()) {
      entries.push({ src, rel: relPath, kind: 'dir' });
      for (const child of fs.readdirSync(src).sort()) {
        if (src === pkgRoot && child === 'node_modules') continue;
        walk(path.join(src, child), path.join(relPath, child));
      }
    } else if (st.isFile()) {
      const mode = st.mode & 0o111 ? 0o755 : 0o644;
      // Already exactly what the copy would be (root's, this mode, same filesystem as the
      // destination is checked at link time): a hard link is that copy without the bytes.
      const linkable = st.uid === 0 && (st.mode & 0o7777) === mode;
      entries.push({ src, rel: relPath, kind: 'file', mode, size: st.size, mtime: Math.floor(st.mtimeMs), linkable });
    } else if (st.isSymbolicLink()) {
      const link = fs.readlinkSync(src);
      const target = path.resolve(path.dirname(src), link);
      if (path.isAbsolute(link) || !(target === pkgRoot || target.startsWith(pkgRoot + path.sep))) {
        say(`warning: skipped ${path.join(rel, path.relative(pkgRoot, src))}: a symlink leaving its package (${link})`);
        return;
      }
      entries.push({ src, rel: relPath, kind: 'link', link });
    }
    // sockets, FIFOs, devices: never copied
  };
  walk(pkgRoot, rel);
}
const hash = crypto.createHash('sha256');
for (const e of entries) hash.update(`${e.kind}\0${e.rel}\0${e.mode ?? ''}\0${e.size ?? ''}\0${e.mtime ?? ''}\0${e.link ?? ''}\n`);
const fingerprint = hash.digest('hex').slice(0, 16);
const bytes = entries.reduce((n, e) => n + (e.size ?? 0), 0);

fs.mkdirSync(runtimesDir, { recursive: true, mode: 0o755 });
const finalDir = path.join(runtimesDir, fingerprint);
if (fs.existsSync(path.join(finalDir, '.complete'))) {
  say(`reused ${finalDir} (${closure.size} packages, ${(bytes / 1e6).toFixed(0)} MB, unchanged)`);
  process.stdout.write(`${fingerprint}\n`);
  process.exit(0);
}

// ---- copy into a temporary directory beside it, then rename into place ----
const tmp = `${finalDir}.new.${process.pid}`;
fs.rmSync(tmp, { recursive: true, force: true });
fs.rmSync(finalDir, { recursive: true, force: true }); // an incomplete earlier attempt
const dest = path.join(tmp, 'node_modules');
let linked = 0;
let copied = 0;
/** Hard-links src at to; false when that is not possible (another filesystem...) or src changed owner/mode meanwhile. */
function tryLink(src, to) {
  try {
    fs.linkSync(src, to);
  } catch {
    return false;
  }
  const st = fs.lstatSync(to);
  if (st.isFile() && st.uid === 0 && (st.mode & 0o022) === 0 && (st.mode & 0o7000) === 0) return true;
  fs.rmSync(to, { force: true });
  return false;
}
fs.mkdirSync(dest, { recursive: true, mode: 0o755 });
for (const e of entries) {
  const to = path.join(dest, e.rel);
  if (e.kind === 'dir') {
    fs.mkdirSync(to, { recursive: true, mode: 0o755 });
    fs.chmodSync(to, 0o755);
  } else if (e.kind === 'file') {
    fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o755 });
    if (e.linkable && tryLink(e.src, to)) linked += 1;
    else {
      fs.copyFileSync(e.src, to);
      fs.chmodSync(to, e.mode);
      copied += 1;
    }
  } else {
    fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o755 });
    fs.symlinkSync(e.link, to);
  }
}
const manifest = [...closure.values()].map((p) => `${p.rel} ${p.name}@${p.version}`).sort();
fs.writeFileSync(path.join(tmp, 'packages.txt'), manifest.join('\n') + '\n', { mode: 0o644 });
fs.writeFileSync(path.join(tmp, '.complete'), `${fingerprint}\n`, { mode: 0o644 });
fs.chmodSync(tmp, 0o755);
fs.renameSync(tmp, finalDir);
say(`installed ${finalDir} (${closure.size} packages, ${(bytes / 1e6).toFixed(0)} MB; ${copied} files copied, ${linked} hard-linked to root-owned files of the same content and mode)`);
process.stdout.write(`${fingerprint}\n`);
