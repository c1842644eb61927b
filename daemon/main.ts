import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { loadRuntime, type Runtime } from './config/load.js';
import { ensurePrivateDir } from './config/home.js';
import { openDatabase } from './db/database.js';
import { createApp } from './app.js';
import { refuseUnsafeStartup, startupWarnings, warnWhenUsersGrow } from './startup-checks.js';
import { prepareSecretsAtRest } from './crypto/secrets-at-rest.js';
import { readRunning, removePidfile, writePidfile } from './pidfile.js';
import type { Application } from './declarations.js';
import { runnerOf } from './runner/index.js';
import { terminalsOf } from './terminal/manager.js';
import { LiveConfig, liveConfigOf } from './config/live.js';
import { restartFingerprint } from './config/reload-keys.js';
import { currentSystemdUnit } from './systemd.js';

export interface RunningDaemon {
  app: Application;
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Write and own the pidfile (the CLI's daemon; in-process test daemons do not). */
  pidfile?: boolean;
  log?: (line: string) => void;
  /** Where AGOR_MASTER_SECRET / AGOR_MASTER_SECRET_FILE are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Run prompts (default). False only records them as queued (test daemons of unrelated suites). */
  runTasks?: boolean;
  /** Reload config.yaml when it changes (default true). */
  watchConfig?: boolean;
}

/** Reads config, opens the database, builds the app and listens. Throws with a clear message on refusal. */
export async function startDaemon(runtime: Runtime, { pidfile = false, log = console.log, env = process.env, runTasks = true, watchConfig = true }: StartOptions = {}): Promise<RunningDaemon> {
  process.umask(0o077);
  const { config, paths } = runtime;
  refuseUnsafeStartup({ config, uid: process.getuid?.() ?? -1, runtime });
  ensurePrivateDir(paths.home);
  if (pidfile) {
    const running = readRunning(paths.pidFile);
    if (running) throw new Error(`A daemon is already running (pid ${running.pid}, ${running.url}); stop it with \`agor daemon stop\``);
  }
  const db = await openDatabase(runtime.databaseFile);
  try {
    const [{ count }] = await db('users').count({ count: '*' });
    for (const warning of startupWarnings({ config, userCount: Number(count) })) log(warning);
    const secretBox = await prepareSecretsAtRest({ config, db, env, log });
    const app = createApp(runtime, db);
    warnWhenUsersGrow(app, log, Number(count));
    app.set('secretBox', secretBox);
    const live = new LiveConfig(app, log);
    app.set('liveConfig', live);
    const server: Server = await app.listen(config.daemon.port, config.daemon.host);
    if (!server.listening) {
      await new Promise<void>((resolve, reject) => {
        server.once('listening', resolve);
        server.once('error', reject);
      });
    }
    // Once listening (a failed listen must not leave executors behind); tasks created before
    // this are picked up from the database.
    if (runTasks) await runnerOf(app).start({ log });
    const { port } = server.address() as AddressInfo;
    const host = config.daemon.host.includes(':') ? `[${config.daemon.host}]` : config.daemon.host;
    const url = config.daemon.public_url ?? `http://${host}:${port}`;
    if (pidfile) writePidfile(paths.pidFile, { pid: process.pid, url, started_at: new Date().toISOString(), restart_fingerprint: restartFingerprint(config), systemd_unit: currentSystemdUnit() });
    if (watchConfig) live.watch();
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        live.close();
        await terminalsOf(app).shutdown();
        await runnerOf(app).shutdown();
        await new Promise<void>((resolve) => app.io.close(() => resolve()));
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await db.destroy();
        if (pidfile) removePidfile(paths.pidFile);
      })());
    return { app, url, port, close };
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

/** Foreground run: prints the URL, shuts down cleanly on SIGTERM/SIGINT. */
export async function runForeground(runtime: Runtime): Promise<void> {
  const daemon = await startDaemon(runtime, { pidfile: true });
  console.log(`agor daemon listening on ${daemon.url} (AGOR_HOME ${runtime.paths.home})`);
  const stop = (signal: string) => {
    console.log(`agor daemon: ${signal} received, shutting down`);
    daemon.close().then(
      () => process.exit(0),
      (error) => {
        console.error('agor daemon: error while shutting down:', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // SIGHUP: re-read config.yaml (systemctl reload, kill -HUP); a refusal is logged and changes nothing.
  process.on('SIGHUP', () => void liveConfigOf(daemon.app).reload('SIGHUP').catch(() => undefined));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flag = process.argv.indexOf('--config');
  runForeground(loadRuntime({ configFlag: flag >= 0 ? process.argv[flag + 1] : undefined })).catch((error) => {
    console.error(`agor daemon: ${(error as Error).message}`);
    process.exit(1);
  });
}
