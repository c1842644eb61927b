import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { runForeground } from '../../daemon/main.js';
import { isAlive, readRunning } from '../../daemon/pidfile.js';
import { openPrivateAppend } from '../../daemon/config/home.js';
import { CliError, runtimeOf, type GlobalOptions } from '../context.js';
import { ConfigError, validateConfig, type Runtime } from '../../daemon/config/load.js';
import { resolveAgorPaths } from '../../daemon/config/paths.js';
import { pendingRestartOfRunning } from '../../daemon/config/reload-keys.js';
import { installedSystemdUnit } from '../../daemon/systemd.js';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

function logTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

/** Starts the daemon detached, logging to AGOR_HOME/daemon.log, and waits until /health answers. */
async function startBackground(globals: GlobalOptions): Promise<void> {
  const runtime = runtimeOf(globals);
  const running = readRunning(runtime.paths.pidFile);
  if (running) throw new CliError(`A daemon is already running (pid ${running.pid}, ${running.url})${running.systemd_unit ? ` under systemd (${running.systemd_unit})` : ''}`);
  const unit = installedSystemdUnit();
  if (unit) throw new CliError(`agor is installed as a systemd service here: start it with \`sudo systemctl start ${unit}\` (then \`systemctl status ${unit}\`)`);
  const logFd = openPrivateAppend(runtime.paths.logFile);
  const logStart = fs.fstatSync(logFd).size;
  const args = [fileURLToPath(new URL('../main.js', import.meta.url)), 'daemon', 'start', '--foreground'];
  if (globals.config) args.push('--config', globals.config);
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && exited === null) {
    const info = readRunning(runtime.paths.pidFile);
    if (info && info.pid === child.pid && (await healthy(info.url))) {
      console.log(`agor daemon started (pid ${info.pid}) on ${info.url}; log: ${runtime.paths.logFile}`);
      return;
    }
    await sleep(100);
  }
  const output = fs.readFileSync(runtime.paths.logFile, 'utf8').slice(logStart).trim();
  if (exited === null) {
    if (child.pid) process.kill(child.pid, 'SIGTERM');
    throw new CliError(`The daemon did not become healthy within ${START_TIMEOUT_MS / 1000}s; see ${runtime.paths.logFile}`);
  }
  const lines = output.split('\n').filter(Boolean).slice(-3).map((l) => l.replace(/^agor: /, ''));
  throw new CliError(lines.join('\n') || `The daemon exited with code ${exited}`);
}

export function registerDaemon(program: Command): void {
  const daemon = program.command('daemon').description('start, stop and inspect the agor daemon');
  daemon
    .command('start')
    .description('start the daemon (in the background unless --foreground)')
    .option('--foreground', 'run in this terminal; Ctrl-C stops it')
    .action(async (opts: { foreground?: boolean }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      if (opts.foreground) await runForeground(runtimeOf(globals));
      else await startBackground(globals);
    });
  daemon
    .command('stop')
    .description('stop the running daemon and wait for it to exit')
    .action(async (_opts: unknown, cmd: Command) => {
      const runtime = runtimeOf(cmd.optsWithGlobals<GlobalOptions>());
      const running = readRunning(runtime.paths.pidFile);
      if (!running) {
        console.log('agor daemon is not running');
        return;
      }
      // systemd would see a daemon it did not stop; it is the one to stop it (and keep it stopped).
      if (running.systemd_unit) throw new CliError(`The daemon (pid ${running.pid}) is managed by systemd: stop it with \`sudo systemctl stop ${running.systemd_unit}\``);
      process.kill(running.pid, 'SIGTERM');
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (isAlive(running.pid)) {
        if (Date.now() > deadline) throw new CliError(`Daemon pid ${running.pid} did not exit within ${STOP_TIMEOUT_MS / 1000}s`);
        await sleep(100);
      }
      console.log(`agor daemon stopped (pid ${running.pid})`);
    });
  daemon
    .command('status')
    .description('say whether the daemon runs, where, and whether it answers')
    .action(async (_opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      // An edit the running daemon refused must not hide whether it runs: report both.
      let runtime: Runtime;
      let configError: string | undefined;
      try {
        runtime = runtimeOf(globals);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        const paths = resolveAgorPaths({ configFlag: globals.config });
        if (!readRunning(paths.pidFile)) throw error;
        configError = error.message;
        runtime = { paths, config: validateConfig({}, paths.configPath), databaseFile: '', dataDir: '' };
      }
      const running = readRunning(runtime.paths.pidFile);
      const status: { running: boolean; healthy?: boolean; pending_restart?: string[]; [k: string]: unknown } = running
        ? {
            running: true,
            pid: running.pid,
            url: running.url,
            started_at: running.started_at,
            healthy: await healthy(running.url),
            pending_restart: configError ? [] : pendingRestartOfRunning(running, runtime.config),
            ...(configError ? { config_error: configError } : {}),
            ...(running.systemd_unit ? { systemd_unit: running.systemd_unit } : {}),
          }
        : { running: false };
      if (globals.json) console.log(JSON.stringify(status, null, 2));
      else if (running) {
        console.log(`agor daemon running (pid ${running.pid}) on ${running.url}, ${status.healthy ? 'healthy' : 'NOT answering /health'}`);
        if (configError) console.log(`config file invalid, the daemon keeps its running config: ${configError}`);
        if (running.systemd_unit) console.log(`managed by systemd: systemctl status ${running.systemd_unit}; journalctl -u ${running.systemd_unit}`);
        if (status.pending_restart?.length) console.log(`pending restart: ${status.pending_restart.join(', ')} (edited in ${runtime.paths.configPath}; the daemon runs with the old values)`);
      } else if (installedSystemdUnit()) console.log(`agor daemon is not running; it is installed as a systemd service: systemctl status ${installedSystemdUnit()}`);
      else console.log(`agor daemon is not running${logTail(runtime.paths.logFile) ? ` (last log lines in ${runtime.paths.logFile})` : ''}`);
      if (!running) process.exitCode = 3;
    });
}
