import type { Command } from 'commander';
import { connect } from '../client.js';
import type { GlobalOptions } from '../context.js';
import { EXIT_CODES_HELP } from '../exit-codes.js';
import { sessionId } from '../lookup.js';
import { printObject } from '../output.js';
import { readStdin } from '../secret-input.js';
import { tasksPath } from '../../daemon/services/tasks/tasks.shared.js';

export function registerPrompt(program: Command): void {
  program
    .command('prompt <session> <text>')
    .description("send a prompt to a session; --wait follows the agent's answer")
    .option('--wait', "stream the agent's output until the task ends; the exit code says how it ended")
    .addHelpText('after', `\n<session> is an id, an id prefix or a title; <text> "-" reads the prompt from stdin.\n${EXIT_CODES_HELP}`)
    .action(async (ref: string, text: string, opts: { wait?: boolean }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const prompt = text === '-' ? await readStdin() : text;
      if (opts.wait) {
        // Socket.IO is loaded only to wait.
        const { promptAndWait } = await import('../wait.js');
        process.exitCode = await promptAndWait(globals, ref, prompt);
        return;
      }
      const { app } = await connect(globals);
      printObject({ ...((await app.service(tasksPath).create({ session_id: await sessionId(app, ref), prompt })) as Record<string, unknown>) }, globals.json);
    });
}
