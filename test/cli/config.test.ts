import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchema } from '../../daemon/config/schema.js';
import { parseConfigDocument, validateConfig } from '../../daemon/config/load.js';
import { packageRoot } from '../../daemon/version.js';
import { runCli } from '../helpers/cli.js';
import { isAlive } from '../../daemon/pidfile.js';

const PASSWORD = 'config-test-password-1';

/** Stops a daemon this test started (named by the pidfile in one of our temp homes). */
async function stopDaemonIn(home: string): Promise<void> {
  let pid: number;
  try {
    pid = JSON.parse(fs.readFileSync(path.join(home, 'daemon.pid'), 'utf8')).pid;
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || !isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

let base: string;
/** $HOME of every child: ~/.agor would be inside it, and must never appear. */
let userHome: string;
const daemonHomes: string[] = [];

before(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-cli-config-'));
  userHome = path.join(base, 'home');
  fs.mkdirSync(userHome);
});

after(async () => {
  for (const home of daemonHomes) await stopDaemonIn(home);
  fs.rmSync(base, { recursive: true, force: true });
});

function assertNoDefaultHome(): void {
  assert.equal(fs.existsSync(path.join(userHome, '.agor')), false, '~/.agor must not be created');
  assert.deepEqual(fs.readdirSync(userHome), []);
}

function writeConfig(name: string, text: string): string {
  const dir = path.join(base, 'cases', name);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, text);
  return file;
}

describe('a bad config refuses to start and says what to fix', () => {
  const cases: { name: string; text: string; expect: (string | RegExp)[] }[] = [
    {
      name: 'unknown key',
      text: 'daemon:\n  port: 0\n  prot: 5\n',
      expect: ['unknown key "daemon.prot"', 'config.example.yaml'],
    },
    {
      name: 'bad enum value',
      text: 'daemon:\n  port: 0\nexecution:\n  unix_user_mode: weird\n',
      expect: ['"execution.unix_user_mode"', '"simple", "insulated", "strict"'],
    },
    {
      name: 'broken YAML',
      text: 'daemon:\n  port: 0\n  host: a: b\nauth:\n  jwt_ttl: 1d\n',
      expect: [/line 3\b/, 'invalid YAML'],
    },
    {
      name: 'insulated without worktree_rbac',
      text: 'daemon:\n  port: 0\nexecution:\n  unix_user_mode: insulated\n',
      expect: ['execution.worktree_rbac', 'worktree_rbac: true', 'unix_user_mode: simple'],
    },
  ];

  for (const c of cases) {
    it(`${c.name}: daemon start --foreground exits non-zero with one clear line`, async () => {
      const file = writeConfig(c.name.replace(/\W+/g, '-'), c.text);
      const result = await runCli(['--config', file, 'daemon', 'start', '--foreground'], { HOME: userHome }, '', 20_000);
      assert.notEqual(result.code, null, 'the daemon must refuse, not run');
      assert.notEqual(result.code, 0);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line on stderr, got: ${result.stderr}`);
      for (const e of c.expect) {
        if (typeof e === 'string') assert.ok(result.stderr.includes(e), `stderr should mention ${e}: ${result.stderr}`);
        else assert.match(result.stderr, e);
      }
      assert.equal(fs.existsSync(path.join(path.dirname(file), 'daemon.pid')), false, 'no pidfile left behind');
      assertNoDefaultHome();
    });
  }

  it('daemon start (background) with AGOR_CONFIG_PATH reports the same error and starts nothing', async () => {
    const file = writeConfig('background-unknown', 'daemon:\n  port: 0\nexecution:\n  unix_user_mode: weird\n');
    const result = await runCli(['daemon', 'start'], { HOME: userHome, AGOR_CONFIG_PATH: file });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /"execution\.unix_user_mode" must be one of "simple", "insulated", "strict"/);
    assert.equal(fs.existsSync(path.join(path.dirname(file), 'daemon.pid')), false);
    assertNoDefaultHome();
  });

  it('a --config path that does not exist is refused by daemon start (a typo never runs on defaults)', async () => {
    const missing = path.join(base, 'nowhere', 'config.yaml');
    const result = await runCli(['--config', missing, 'daemon', 'start', '--foreground'], { HOME: userHome }, '', 20_000);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /config file not found/);
    assert.equal(fs.existsSync(path.dirname(missing)), false);
    assertNoDefaultHome();
  });
});

describe('--config and AGOR_CONFIG_PATH keep all state beside the config file', () => {
  const STATE_FILES = ['config.yaml', 'jwt.key', 'agor.db', 'daemon.pid', 'daemon.log'];

  it('--config: init creates the config there; database, jwt.key, pidfile and log live beside it', async () => {
    const dir = path.join(base, 'flag', 'srv');
    const config = path.join(dir, 'config.yaml');
    daemonHomes.push(dir);
    const env = { HOME: userHome };
    const init = await runCli(['--config', config, 'init', '--email', 'owner@flag.test', '--password-stdin'], env, PASSWORD);
    assert.equal(init.code, 0, init.stderr);
    assert.ok(fs.existsSync(config), 'init writes the config it was pointed at');
    assert.equal((await runCli(['--config', config, 'config', 'set', 'daemon.port', '0'], env)).code, 0);
    const start = await runCli(['--config', config, 'daemon', 'start'], env);
    assert.equal(start.code, 0, start.stderr);
    for (const f of STATE_FILES) assert.ok(fs.existsSync(path.join(dir, f)), `${f} beside the config`);
    const status = await runCli(['--config', config, 'daemon', 'status'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /running/);
    const login = await runCli(['--config', config, 'login', '--email', 'owner@flag.test', '--password-stdin'], env, PASSWORD);
    assert.equal(login.code, 0, login.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'cli-token.json')));
    const stop = await runCli(['--config', config, 'daemon', 'stop'], env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(fs.existsSync(path.join(dir, 'daemon.pid')), false);
    assertNoDefaultHome();
  });

  it('AGOR_CONFIG_PATH: the same, and database.url (relative) is resolved beside the config', async () => {
    const dir = path.join(base, 'env', 'etc');
    fs.mkdirSync(dir, { recursive: true });
    const config = path.join(dir, 'agor.yaml');
    fs.writeFileSync(config, 'daemon:\n  host: 127.0.0.1\n  port: 0\ndatabase:\n  url: sqlite:state/custom.db\n');
    daemonHomes.push(dir);
    const env = { HOME: userHome, AGOR_CONFIG_PATH: config };
    const init = await runCli(['init', '--email', 'owner@env.test', '--password-stdin'], env, PASSWORD);
    assert.equal(init.code, 0, init.stderr);
    const start = await runCli(['daemon', 'start'], env);
    assert.equal(start.code, 0, start.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'state', 'custom.db')), 'the database is where database.url says');
    assert.equal(fs.existsSync(path.join(dir, 'agor.db')), false, 'no default database besides it');
    for (const f of ['jwt.key', 'daemon.pid', 'daemon.log']) assert.ok(fs.existsSync(path.join(dir, f)), `${f} beside the config`);
    assert.equal(fs.existsSync(path.join(dir, 'config.yaml')), false, 'init keeps the named config; it does not write another');
    const login = await runCli(['login', '--email', 'owner@env.test', '--password-stdin'], env, PASSWORD);
    assert.equal(login.code, 0, login.stderr);
    const stop = await runCli(['daemon', 'stop'], env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(fs.existsSync(path.join(dir, 'daemon.pid')), false);
    assertNoDefaultHome();
  });
});

describe('agor config get / set', () => {
  it('get daemon.port prints the effective default without creating any file', async () => {
    const result = await runCli(['config', 'get', 'daemon.port'], { HOME: userHome });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), String(configSchema.parse({}).daemon.port));
    const unset = await runCli(['config', 'get', 'daemon.public_url'], { HOME: userHome });
    assert.equal(unset.code, 0, 'a known key without a value is not an error');
    assert.equal(unset.stdout.trim(), '');
    const unknown = await runCli(['config', 'get', 'daemon.nope'], { HOME: userHome });
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /Unknown config key "daemon\.nope"/);
    assertNoDefaultHome();
  });

  it('set refuses a bad value and leaves the file byte for byte unchanged', async () => {
    const home = path.join(base, 'set', 'agor');
    const env = { HOME: userHome, AGOR_HOME: home };
    assert.equal((await runCli(['init', '--email', 'owner@set.test', '--password-stdin'], env, PASSWORD)).code, 0);
    const file = path.join(home, 'config.yaml');
    const before = fs.readFileSync(file);
    const refusals: [string, string, RegExp][] = [
      ['execution.unix_user_mode', 'weird', /"execution\.unix_user_mode" must be one of "simple", "insulated", "strict"/],
      ['daemon.prot', '5', /unknown key "daemon\.prot"/],
      ['daemon.port', 'abc', /"daemon\.port" must be a number/],
      ['daemon.port', '70000', /"daemon\.port"/],
      ['auth.jwt_ttl', 'forever', /"auth\.jwt_ttl"/],
      ['Daemon.Port', '1', /not a config key/],
    ];
    for (const [key, value, message] of refusals) {
      const result = await runCli(['config', 'set', key, value], env);
      assert.notEqual(result.code, 0, `${key}=${value} must be refused`);
      assert.match(result.stderr, message);
      assert.deepEqual(fs.readFileSync(file), before, `${key}=${value} left the file unchanged`);
    }
    assertNoDefaultHome();
  });

  it('set keeps the comments of the file (the generated one and a hand-written one)', async () => {
    const home = path.join(base, 'set', 'agor');
    const env = { HOME: userHome, AGOR_HOME: home };
    const file = path.join(home, 'config.yaml');
    const commentLines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('#'));
    assert.ok(commentLines.length > 10, 'init wrote the documented example');
    const set = await runCli(['config', 'set', 'daemon.port', '4000'], env);
    assert.equal(set.code, 0, set.stderr);
    const after = fs.readFileSync(file, 'utf8');
    for (const line of commentLines) assert.ok(after.includes(line), `comment kept: ${line}`);
    assert.equal((await runCli(['config', 'get', 'daemon.port'], env)).stdout.trim(), '4000');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);

    const own = writeConfig('hand-written', '# my team settings\ndaemon:\n  # loopback only, the proxy fronts it\n  port: 0 # any port\n');
    const ownEnv = { HOME: userHome, AGOR_CONFIG_PATH: own };
    const second = await runCli(['config', 'set', 'auth.jwt_ttl', '12h'], ownEnv);
    assert.equal(second.code, 0, second.stderr);
    const text = fs.readFileSync(own, 'utf8');
    for (const comment of ['# my team settings', '# loopback only, the proxy fronts it', '# any port']) assert.ok(text.includes(comment), `kept ${comment}`);
    assert.equal((await runCli(['config', 'get', 'auth.jwt_ttl'], ownEnv)).stdout.trim(), '12h');
    assert.equal((await runCli(['config', 'get', 'daemon.port'], ownEnv)).stdout.trim(), '0');
    assertNoDefaultHome();
  });
});

// ---- config.example.yaml and the zod schema must not drift apart ----

interface SchemaNode {
  _zod: { def: { type: string; innerType?: SchemaNode; shape?: Record<string, SchemaNode>; entries?: Record<string, string> } };
}

function unwrap(node: SchemaNode): { node: SchemaNode; optional: boolean } {
  let optional = false;
  while (node._zod.def.innerType) {
    if (node._zod.def.type === 'optional') optional = true;
    node = node._zod.def.innerType;
  }
  return { node, optional };
}

/** Every leaf key of the schema, e.g. "daemon.port", with its enum values when it is an enum. */
function schemaLeaves(node: SchemaNode, prefix: string[] = []): { key: string; optional: boolean; values?: string[] }[] {
  const { node: inner, optional } = unwrap(node);
  const { shape, type, entries } = inner._zod.def;
  if (type === 'object' && shape) return Object.entries(shape).flatMap(([k, child]) => schemaLeaves(child, [...prefix, k]));
  return [{ key: prefix.join('.'), optional, values: type === 'enum' && entries ? Object.values(entries) : undefined }];
}

function getIn(value: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);
}

/** Un-comments the documented settings ("# daemon:", "#   port: 3030 ...") and leaves prose comments alone. */
function uncomment(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/^# ?(?=\s*[a-z_]+:(\s|$))/, ''))
    .join('\n');
}

describe('config.example.yaml documents the schema', () => {
  const examplePath = path.join(packageRoot(), 'config.example.yaml');
  const exampleText = fs.readFileSync(examplePath, 'utf8');
  const uncommented = uncomment(exampleText);
  const defaults = configSchema.parse({});

  it('uncommented, it parses and validates, and is exactly the defaults', () => {
    assert.notEqual(uncommented, exampleText, 'the example has commented settings');
    const doc = parseConfigDocument(uncommented, examplePath);
    const config = validateConfig(doc.toJS(), examplePath);
    assert.deepEqual(config, defaults);
  });

  it('every schema key appears in the example, with its default (or empty when it has none)', () => {
    const example = parseConfigDocument(uncommented, examplePath).toJS();
    const leaves = schemaLeaves(configSchema as unknown as SchemaNode);
    assert.ok(leaves.length >= 10, `schema walk found ${leaves.length} keys`);
    for (const { key, optional, values } of leaves) {
      const parts = key.split('.');
      const parent = parts.slice(0, -1).reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], example);
      assert.ok(parent !== null && typeof parent === 'object' && Object.hasOwn(parent, parts.at(-1)!), `config.example.yaml documents ${key}`);
      const documented = getIn(example, key);
      const expected = getIn(defaults, key);
      if (expected === undefined) {
        assert.ok(optional, `${key} has no default, so it must be optional`);
        assert.equal(documented, null, `${key} has no default: the example leaves it empty`);
      } else {
        assert.deepEqual(documented, expected, `${key}: the example shows the default`);
      }
      if (values) {
        const line = exampleText.split('\n').find((l) => new RegExp(`^#\\s+${parts.at(-1)}:`).test(l)) ?? '';
        for (const v of values) assert.ok(line.includes(v), `the example lists "${v}" for ${key}`);
      }
    }
  });

  it('every key the example documents exists in the schema', () => {
    const example = parseConfigDocument(uncommented, examplePath).toJS() as Record<string, Record<string, unknown>>;
    const known = new Set(schemaLeaves(configSchema as unknown as SchemaNode).map((l) => l.key));
    for (const [section, keys] of Object.entries(example)) {
      for (const key of Object.keys(keys ?? {})) assert.ok(known.has(`${section}.${key}`), `${section}.${key} is in the schema`);
    }
  });
});
