import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { COMMANDS, commandOf } from './command-table.js';

describe('the lazy command table', () => {
  it('lists each command as its module defines it (name and description), so --help tells the truth', async () => {
    for (const entry of COMMANDS) {
      const program = new Command('agor');
      for (const register of await entry.load()) register(program);
      const defined = program.commands.find((c) => c.name() === entry.name);
      assert.ok(defined, `loading "${entry.name}" defines it`);
      assert.equal(defined.description(), entry.description, `description of "${entry.name}"`);
    }
  });

  it('every top-level command a module defines is in the table', async () => {
    const names = new Set(COMMANDS.map((c) => c.name));
    for (const entry of COMMANDS) {
      const program = new Command('agor');
      for (const register of await entry.load()) register(program);
      for (const c of program.commands) assert.ok(names.has(c.name()), `"${c.name()}" (from loading "${entry.name}") is in the table`);
    }
  });

  it('finds the command past global options and their values, and through `help`', () => {
    assert.equal(commandOf(['--config', 'session', 'worktree', 'list'])?.name, 'worktree');
    assert.equal(commandOf(['--json', '--url', 'http://x', 'task', 'list'])?.name, 'task');
    assert.equal(commandOf(['help', 'prompt'])?.name, 'prompt');
    assert.equal(commandOf(['--version']), undefined);
    assert.equal(commandOf(['--help']), undefined);
    assert.equal(commandOf(['nope']), undefined);
    assert.equal(commandOf(['--', 'session']), undefined);
  });
});
