import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENV_NAME_PATTERN, refusedEnvNames, whyRefusedEnvName } from './env-names.js';

// Names that change how programs load, where they look, or who they think they are.
const REFUSED: Array<[string, RegExp]> = [
  ['LD_PRELOAD', /dynamic loader/],
  ['LD_LIBRARY_PATH', /dynamic loader/],
  ['LD_AUDIT', /dynamic loader/],
  ['DYLD_INSERT_LIBRARIES', /dynamic loader/],
  ['NODE_OPTIONS', /Node\.js/],
  ['NODE_PATH', /Node\.js/],
  ['BASH_ENV', /shells/],
  ['ENV', /shells/],
  ['PS4', /shells/],
  ['PROMPT_COMMAND', /shells/],
  ['IFS', /shells/],
  ['PYTHONPATH', /Python/],
  ['PYTHONSTARTUP', /Python/],
  ['PYTHONHOME', /Python/],
  ['PERL5LIB', /Perl/],
  ['PERL5OPT', /Perl/],
  ['RUBYOPT', /Ruby/],
  ['RUBYLIB', /Ruby/],
  ['JAVA_TOOL_OPTIONS', /Java/],
  ['GIT_SSH_COMMAND', /git/],
  ['GIT_CONFIG_GLOBAL', /git/],
  ['GIT_DIR', /git/],
  ['GIT_EXEC_PATH', /git/],
  ['PATH', /where programs look/],
  ['TMPDIR', /where programs look/],
  ['XDG_CONFIG_HOME', /where programs look/],
  ['HOME', /who programs think/],
  ['SHELL', /who programs think/],
  ['USER', /who programs think/],
  ['LOGNAME', /who programs think/],
  ['SUDO_USER', /sudo/],
  ['AGOR_MASTER_SECRET', /reserved for agor/],
  ['AGOR_HOME', /reserved for agor/],
  ['GCONV_PATH', /C library/],
  ['OPENSSL_CONF', /crypto engines/],
  ['NPM_CONFIG_SCRIPT_SHELL', /npm/],
  ['EDITOR', /program/],
];

describe('secret names', () => {
  for (const [name, why] of REFUSED) {
    it(`refuses ${name}, naming it and saying why`, () => {
      const reason = whyRefusedEnvName(name);
      assert.ok(reason, `${name} was accepted`);
      assert.ok(reason.startsWith(`${name} is refused: `), reason);
      assert.match(reason, why);
    });
  }

  it('accepts ordinary variables and agent API keys', () => {
    for (const name of ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'GITHUB_TOKEN', 'DATABASE_URL', 'MY_VAR_2', '_PRIVATE', 'A', 'LD', 'GITHUB_PAT', 'NODE_ENV', 'PYTHONUNBUFFERED', 'X'.repeat(128)]) {
      assert.equal(whyRefusedEnvName(name), null, name);
    }
  });

  it('refuses malformed names without echoing them (a pasted value must not be shown back)', () => {
    for (const name of ['', 'lower_case', '1ABC', 'A-B', 'A B', 'A=B', 'ÄBC', 'X'.repeat(129), 'sk-ant-api03-pasted-by-mistake', 'A\u0000B']) {
      const reason = whyRefusedEnvName(name);
      assert.ok(reason, JSON.stringify(name));
      assert.match(reason, /must be an environment variable name/);
      if (name) assert.ok(!reason.includes(name), reason);
    }
    for (const notString of [undefined, null, 42, ['PATH'], { name: 'PATH' }]) assert.ok(whyRefusedEnvName(notString));
  });

  it('every listed name has the shape of a name, so none is dead weight', () => {
    const { names, prefixes } = refusedEnvNames();
    assert.ok(names.length + prefixes.length >= 40);
    for (const name of names) assert.match(name, ENV_NAME_PATTERN);
    for (const prefix of prefixes) assert.match(prefix, /^[A-Z_][A-Z0-9_]*_$/);
  });
});
