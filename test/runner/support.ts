// Shared pieces of the runner suites: command agents as node one-liners, process checks via /proc.
import fs from 'node:fs';
import { allPids, cmdline } from '../../daemon/executor/proc.js';
export { alive, childrenOf, hostPidOf } from '../helpers/proc.js';

/** argv of a command agent running `script` with this Node (no shell anywhere). */
export const nodeAgent = (script: string) => ({ type: 'command', command: [process.execPath, '-e', script] });

/** The prompt (stdin), then `body` with `prompt` in scope. */
export const withPrompt = (body: string) => `let prompt='';process.stdin.on('data',d=>prompt+=d).on('end',()=>{prompt=prompt.trim();${body}})`;

/** Every live process's command line, NUL-separated arguments joined by spaces. */
export function allCmdlines(): { pid: number; cmdline: string }[] {
  return allPids().map((pid) => ({ pid, cmdline: cmdline(pid) }));
}

/** Names of a live process's environment variables (same-uid processes only). */
export function environNames(pid: number): string[] {
  return fs
    .readFileSync(`/proc/${pid}/environ`, 'utf8')
    .split('\0')
    .filter(Boolean)
    .map((kv) => kv.slice(0, kv.indexOf('=')));
}

export async function until<T>(pick: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await pick();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
