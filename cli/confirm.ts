import readline from 'node:readline/promises';
import { CliError } from './errors.js';

/**
 * Asks "question [y/N]" on the terminal before something that cannot be undone. `--yes` answers
 * for scripts; without a terminal and without --yes the answer is no, with a sentence saying how.
 */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) throw new CliError(`${question.replace(/\?$/, '')}: not without confirmation; pass --yes (there is no terminal to ask on)`);
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new CliError('Cancelled: nothing was changed');
  } finally {
    rl.close();
  }
}
