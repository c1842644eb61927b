// `agor doctor`: one line per check with ok/WARN/FAIL and the fix; exit 1 when anything FAILs.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';

const homes: string[] = [];
after(() => {
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

async function home(config: Record<string, unknown>, users = 1): Promise<Record<string, string>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-doctor-'));
  homes.push(dir);
  fs.writeFileSync(path.join(dir, 'config.yaml'), stringify(config), { mode: 0o600 });
  const env = { AGOR_HOME: dir, HOME: dir };
  const init = await runCli(['init', '--email', 'owner@doctor.test', '--password-stdin'], { env, stdin: 'doctor-password-1\n' });
  assert.equal(init.code, 0, init.stderr);
  if (users > 1) {
    // A second user, straight into the database (what `agor user create` would do through the daemon).
    const Sqlite = (await import('better-sqlite3')).default;
    const db = new Sqlite(path.join(dir, 'agor.db'));
    db.prepare("INSERT INTO users (id, email, name, password, role, disabled, created_at, updated_at) VALUES (?, 'two@doctor.test', '', 'x', 'member', 0, 'now', 'now')").run(crypto.randomUUID());
    db.close();
  }
  return env;
}

const line = (out: string, name: string) => out.split('\n').find((l) => l.includes(` ${name}: `)) ?? '';

describe('agor doctor', () => {
  it('Dev / Solo with a master secret: every line ok, exit 0', async () => {
    const env = await home({});
    const r = await runCli(['doctor'], { env: { ...env, AGOR_MASTER_SECRET: crypto.randomBytes(32).toString('hex') } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(line(r.stdout, 'mode'), /^ok +mode: Dev \/ Solo: unix_user_mode simple, worktree_rbac false$/);
    assert.match(line(r.stdout, 'master secret'), /^ok +master secret: from AGOR_MASTER_SECRET$/);
    assert.ok(r.stdout.trim().split('\n').every((l) => /^(ok|WARN|FAIL) +[a-z .-]+: /.test(l)), r.stdout);
  });

  it('Local Team without a master secret and a web terminal shared by two users: FAIL and WARN with fixes', async () => {
    const env = await home({ execution: { worktree_rbac: true } }, 2);
    const r = await runCli(['doctor'], { env });
    assert.equal(r.code, 1);
    assert.match(line(r.stdout, 'master secret'), /^FAIL +master secret: .*refused with worktree_rbac\) — fix: openssl rand -hex 32/);
    assert.match(line(r.stdout, 'web terminal'), /^WARN +web terminal: enabled in simple mode with 2 users.* — fix: use unix_user_mode insulated\/strict, or set execution\.allow_web_terminal: false/);
  });

  it('insulated without agor-priv, with worktrees in AGOR_HOME: FAIL lines that say what to do', async () => {
    const env = await home({ execution: { worktree_rbac: true, unix_user_mode: 'insulated', priv_path: '/nonexistent/agor/agor-priv', executor_unix_user: 'agor_nobody_here' } });
    const r = await runCli(['--json', 'doctor'], { env });
    assert.equal(r.code, 1);
    const checks = JSON.parse(r.stdout) as Array<{ name: string; status: string; message: string; fix?: string }>;
    const by = (name: string) => checks.find((c) => c.name === name);
    assert.equal(by('agor-priv')?.status, 'FAIL');
    assert.match(by('agor-priv')!.fix!, /install-unix-isolation\.sh/);
    assert.equal(by('data dir')?.status, 'FAIL');
    assert.match(by('data dir')!.fix!, /outside AGOR_HOME/);
    assert.ok(by('sudo rule'), 'the sudo rule is checked');
    assert.ok(by('executor user') && by('executor user')!.status !== 'ok');
    for (const c of checks) if (c.status !== 'ok') assert.ok(c.fix, `${c.name} has a fix`);
  });
});
