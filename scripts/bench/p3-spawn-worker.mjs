// P3 worker: runs AS the daemon user (started by p3-spawn.mjs through runuser) and measures the
// daemon's one spawn path, daemon/unix/spawn.js, exactly as the daemon calls it.
// argv[2] = JSON { modes: [{ name, mode, identity, cwd }], runs, privPath, sudoPath, agorHome }
// (agorHome: simple mode's sandboxes live below it)
// Prints one JSON object on stdout.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { spawnAsIdentity } = await import(path.join(root, 'dist/daemon/unix/spawn.js'));

const spec = JSON.parse(process.argv[2]);

/** Resolves with ms from spawn requested to the first "ready" line on stdout; the process is left running. */
function startAndTime(entry) {
  const sandbox = { network: true, agorHome: spec.agorHome, hide: [], hideFiles: [] };
  const settings = { mode: entry.mode, sudoPath: spec.sudoPath, privPath: spec.privPath, stopGraceMs: 3000, sandbox };
  const t0 = process.hrtime.bigint();
  const proc = spawnAsIdentity(entry.identity, { program: 'shell', cwd: entry.cwd, worktreeId: 'p3-bench' }, settings);
  proc.child.stdin.write('echo ready\n');
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${entry.name}: no "ready" within 20 s; stderr: ${err}`)), 20_000);
    proc.child.stderr.on('data', (d) => (err += d));
    proc.child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, proc });
      }
    });
    proc.exited.then((s) => reject(new Error(`${entry.name}: exited ${JSON.stringify(s)} before "ready"; stderr: ${err}`)));
  });
}

function procInfo(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return {
      pid,
      ppid,
      name: /^Name:\s+(\S+)/m.exec(status)?.[1] ?? '?',
      uid: Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1] ?? -1),
      rssKb: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0),
    };
  } catch {
    return null;
  }
}

/** The spawned process and all its descendants, with their RSS. */
function tree(pid) {
  const all = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map((e) => procInfo(Number(e))).filter(Boolean);
  const out = [];
  const walk = (p) => {
    const me = all.find((x) => x.pid === p);
    if (me) out.push(me);
    for (const c of all.filter((x) => x.ppid === p)) walk(c.pid);
  };
  walk(pid);
  return out;
}

const result = { timings: {}, resident: {} };
for (const entry of spec.modes) {
  const times = [];
  // One warm-up run, not counted (page cache, sudo's first lookups).
  for (let i = 0; i <= spec.runs; i += 1) {
    const { ms, proc } = await startAndTime(entry);
    if (i > 0) times.push(ms);
    proc.child.stdin.end();
    await proc.exited;
  }
  result.timings[entry.name] = times;
  // Resident cost of one running process of this mode.
  const { proc } = await startAndTime(entry);
  await new Promise((r) => setTimeout(r, 200));
  result.resident[entry.name] = tree(proc.child.pid);
  proc.child.stdin.end();
  await proc.exited;
}
process.stdout.write(JSON.stringify(result) + '\n');
