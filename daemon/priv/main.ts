// agor-priv: the only agor code that runs as root, reached through exactly one sudoers rule
// (`<daemon user> ALL=(root) NOPASSWD: /usr/local/libexec/agor/agor-priv`). See README.md in this
// folder for the verbs, the exit codes and the installed layout. Bundled by scripts/build-bundles.mjs
// into one file that imports only Node built-ins.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { failureLine } from './errors.js';
import { run } from './run.js';

async function main(): Promise<void> {
  // Nothing of the caller's: not its cwd, not its umask (sudo resets the environment already).
  process.chdir('/');
  process.umask(0o022);
  const selfFiles = [process.execPath, fileURLToPath(import.meta.url)];
  if (process.argv[1] !== undefined) selfFiles.push(process.argv[1]);
  // The launcher sudo ran (a bash script beside the bundle, which exec's what exec plans).
  const launcher = path.join(path.dirname(fileURLToPath(import.meta.url)), 'agor-priv');
  if (fs.existsSync(launcher)) selfFiles.push(launcher);
  let code: number;
  try {
    code = await run(process.argv.slice(2), { selfFiles });
  } catch (error) {
    const failure = failureLine(error);
    process.stderr.write(failure.line);
    code = failure.exitCode;
  }
  process.exit(code);
}

void main();
