import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, received, type TestDaemon } from '../helpers/daemon.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { testValue } from '../helpers/secrets.js';
import { credentialsForTask } from '../../daemon/crypto/credentials-for-task.js';

let d: TestDaemon;
let userId: string;
let env: NodeJS.ProcessEnv;
const VALUES: string[] = [];
const outputs: CliResult[] = [];

async function agor(args: string[], stdin = ''): Promise<CliResult> {
  const result = await runCli(['--url', d.url, 'secrets', ...args], { env, stdin });
  outputs.push(result);
  return result;
}

before(async () => {
  d = await startTestDaemon();
  const user = await d.createUser('member');
  userId = user.id;
  const token = await d.login(user.email, user.password);
  const { key } = (await d.rest(token).service('api-keys').create({ name: 'cli' })) as { key: string };
  env = { AGOR_API_KEY: key, AGOR_HOME: d.home, HOME: d.home };
});
after(async () => {
  const leaks = VALUES.filter((v) => outputs.some((o) => o.stdout.includes(v) || o.stderr.includes(v)) || received.some((p) => p.includes(v)) || d.logs.some((l) => l.includes(v)));
  await d.stop();
  assert.deepEqual(leaks, [], 'a value reached CLI output, a client or a log line');
});

const stored = (names: string[]) => credentialsForTask(d.app.get('db'), d.app.get('secretBox'), { userId, names });

describe('agor secrets', () => {
  it('set reads the value from stdin, replaces it on a second set, and prints only name, kind and fingerprint', async () => {
    const first = testValue('gh');
    VALUES.push(first);
    const set = await agor(['set', 'GITHUB_TOKEN'], `${first}\n`);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^GITHUB_TOKEN set \(env, fingerprint [0-9a-f]{16}\)\n$/);
    assert.deepEqual(await stored(['GITHUB_TOKEN']), { GITHUB_TOKEN: first });

    const second = testValue('gh2');
    VALUES.push(second);
    const again = await agor(['set', 'GITHUB_TOKEN', '--kind', 'agent_key'], second);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^GITHUB_TOKEN set \(agent_key, fingerprint /);
    assert.notEqual(again.stdout, set.stdout);
    assert.deepEqual(await stored(['GITHUB_TOKEN']), { GITHUB_TOKEN: second });
  });

  it('list shows names and fingerprints (also as JSON), never values', async () => {
    const table = await agor(['list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+KIND\s+FINGERPRINT\s+UPDATED_AT\nGITHUB_TOKEN\s+agent_key\s+[0-9a-f]{16}\s/);
    const json = await agor(['list', '--json']);
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(rows[0]!).sort(), ['fingerprint', 'id', 'kind', 'name', 'set', 'updated_at']);
  });

  it('never takes a value from the command line, and refused names store nothing', async () => {
    const onArgv = testValue('argv');
    VALUES.push(onArgv);
    const excess = await agor(['set', 'ARGV_TOKEN', onArgv], '');
    assert.notEqual(excess.code, 0);
    const refused = await agor(['set', 'LD_PRELOAD'], '/tmp/evil.so');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /LD_PRELOAD is refused: .*dynamic loader/);
    const empty = await agor(['set', 'EMPTY_TOKEN'], '');
    assert.notEqual(empty.code, 0);
    assert.match(empty.stderr, /No value given/);
    assert.deepEqual(await stored(['ARGV_TOKEN', 'LD_PRELOAD', 'EMPTY_TOKEN']), {});
  });

  it('rm removes a secret; removing it again says it is not there', async () => {
    const rm = await agor(['rm', 'GITHUB_TOKEN']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, 'GITHUB_TOKEN removed\n');
    assert.deepEqual(await stored(['GITHUB_TOKEN']), {});
    const again = await agor(['rm', 'GITHUB_TOKEN']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /^agor: No secret GITHUB_TOKEN/);
  });
});
