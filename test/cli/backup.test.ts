// `agor backup` / `agor restore` (daemon/backup/backup.ts) as the admin runs them: the CLI in a
// child process, the daemon (in this process) writing at the same time; real SQLite files.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { startTestDaemon, makeTempHome, type TestDaemon } from '../helpers/daemon.js';
import { ownerActor, type Actor } from '../helpers/worktree-fixture.js';
import { runCli } from '../helpers/cli.js';

let d: TestDaemon;
let owner: Actor;
let work: string;

type Dump = Record<string, unknown[]>;

/** Every row of every table, in a stable order (the backup's own table left out). */
function dump(file: string): Dump {
  const db = new Sqlite(file, { readonly: true, fileMustExist: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name <> 'agor_backup' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    return Object.fromEntries(tables.map((t) => [t, (db.prepare(`SELECT * FROM "${t}"`).all() as object[]).map((r) => JSON.stringify(r)).sort()]));
  } finally {
    db.close();
  }
}

/** A new AGOR_HOME to restore into (its config comes from the backup). */
function newHome(name: string): string {
  const home = path.join(work, name);
  fs.mkdirSync(home, { mode: 0o700 });
  return path.join(home, 'config.yaml');
}

const cli = (args: string[]) => runCli(args, { HOME: work });

before(async () => {
  d = await startTestDaemon();
  owner = await ownerActor(d);
  work = makeTempHome('agor-backup-');
});

after(async () => {
  await d?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('agor backup / restore', () => {
  it('a backup taken during writes restores to a consistent prefix with a valid chain; one taken at rest to an identical row set', async () => {
    let writing = true;
    let writes = 0;
    // API keys (each audited: the chain grows) and boards, as fast as the daemon takes them.
    const writer = (async () => {
      while (writing) {
        writes += 1;
        await owner.rest.service('api-keys').create({ name: `key ${writes}` });
        await owner.rest.service('boards').create({ name: `board ${writes}` });
      }
    })();
    const during = path.join(work, 'during.agorbackup');
    const started = writes;
    const backup = await cli(['--config', d.runtime.paths.configPath, 'backup', during]);
    const doneDuring = writes;
    writing = false;
    await writer;
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(backup.code, 0, backup.stderr);
    assert.ok(doneDuring > started, `writes went on while the backup ran (${started} -> ${doneDuring})`);
    assert.match(backup.stdout, /chain verified/);

    const target = newHome('during');
    const restore = await cli(['--config', target, 'restore', during]);
    assert.equal(restore.code, 0, restore.stderr);
    const verify = await cli(['--config', target, 'audit', 'verify']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /^OK: \d+ events/);
    const restored = dump(path.join(path.dirname(target), 'agor.db'));
    const live = dump(d.runtime.databaseFile);
    // The copy is one moment of the live database: its audit rows are the first N of the live chain,
    // and every board it has is a live board.
    const restoredAudit = restored.audit_events!.map((r) => JSON.parse(r as string)).sort((a, b) => a.seq - b.seq);
    const liveAudit = live.audit_events!.map((r) => JSON.parse(r as string)).sort((a, b) => a.seq - b.seq);
    assert.ok(restoredAudit.length > 0 && restoredAudit.length < liveAudit.length);
    assert.deepEqual(restoredAudit, liveAudit.slice(0, restoredAudit.length));
    for (const board of restored.boards!) assert.ok(live.boards!.includes(board));
    assert.equal(fs.readFileSync(target, 'utf8'), fs.readFileSync(d.runtime.paths.configPath, 'utf8'), 'the config came back');

    // At rest: identical.
    const atRest = path.join(work, 'rest.agorbackup');
    assert.equal((await cli(['--config', d.runtime.paths.configPath, 'backup', atRest])).code, 0);
    const target2 = newHome('rest');
    assert.equal((await cli(['--config', target2, 'restore', atRest])).code, 0);
    assert.deepEqual(dump(path.join(path.dirname(target2), 'agor.db')), dump(d.runtime.databaseFile));
    assert.equal(fs.statSync(atRest).mode & 0o777, 0o600, 'the backup is private');
    const bytes = fs.readFileSync(atRest);
    assert.equal(bytes.includes(Buffer.from(d.runtime.paths.jwtKey ? fs.readFileSync(d.runtime.paths.jwtKey) : 'none')), false, 'jwt.key is not in it');

    // Never over an existing file.
    const again = await cli(['--config', d.runtime.paths.configPath, 'backup', atRest]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already exists/);
  });

  it('restore refuses while a daemon runs, and refuses a backup whose audit chain was tampered with; nothing changes', async () => {
    const file = path.join(work, 'tamper-base.agorbackup');
    assert.equal((await cli(['--config', d.runtime.paths.configPath, 'backup', file])).code, 0);

    const target = newHome('running');
    const pidFile = path.join(path.dirname(target), 'daemon.pid');
    fs.writeFileSync(pidFile, JSON.stringify({ pid: process.pid, url: d.url, started_at: new Date().toISOString() }));
    const refused = await cli(['--config', target, 'restore', file]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /daemon is running .*agor daemon stop/);
    assert.equal(fs.existsSync(path.join(path.dirname(target), 'agor.db')), false);

    // The attack: an audit row edited inside the backup (a deleted trace of what someone did).
    const tampered = path.join(work, 'tampered.agorbackup');
    fs.copyFileSync(file, tampered);
    const db = new Sqlite(tampered);
    db.prepare("UPDATE audit_events SET actor_label = 'nobody' WHERE seq = 1").run();
    db.close();
    const target2 = newHome('tampered');
    const bad = await cli(['--config', target2, 'restore', tampered]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /audit chain is broken at seq 1/);
    assert.deepEqual(fs.readdirSync(path.dirname(target2)), [], 'nothing written');
  });
});
