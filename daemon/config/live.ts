import fs from 'node:fs';
import path from 'node:path';
import type { Application } from '../declarations.js';
import type { PublicUser } from '../services/users/users.schema.js';
import { ConfigError, parseConfigText } from './load.js';
import type { AgorConfig } from './schema.js';
import { changedKeys, isRestartOnly, withRestartKeysFrom } from './reload-keys.js';
import type { ReloadResult } from './config-reload.shared.js';
import { recordSecurityEvent } from '../audit/security-event.js';
import { startupWarnings } from '../startup-checks.js';
import { runnerOf } from '../runner/index.js';
import { terminalsOf } from '../terminal/manager.js';

/** Editors write in bursts (truncate + write, or write a temp file and rename it over): wait for quiet. */
const DEBOUNCE_MS = 150;

export type ReloadSource = 'file' | 'SIGHUP' | 'api';

/**
 * THE holder of the daemon's live config: it replaces app.get('runtime') with a new Runtime whose
 * config is the file's, except restart-only keys (reload-keys.ts), which keep the started value.
 * Every module reads app.get('runtime').config when it needs a value, so a reload needs no
 * per-module plumbing; the few things a change must also do at once are in apply().
 */
export class LiveConfig {
  /** The file as last validated (what `changed` is computed against). */
  private fileConfig: AgorConfig;
  private readonly started: AgorConfig;
  /** Text last seen by a watch-triggered reload, valid or not: the same bytes are not reported twice. */
  private lastText: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly app: Application,
    private readonly log: (line: string) => void,
  ) {
    this.started = app.get('runtime').config;
    this.fileConfig = this.started;
    this.lastText = this.readText();
  }

  get file(): string {
    return this.app.get('runtime').paths.configPath;
  }

  private readText(): string | undefined {
    try {
      return fs.readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
  }

  /**
   * Re-reads the file. Invalid (or missing): throws a one-line ConfigError, changes nothing, logs it.
   * Serialised: two reloads never interleave.
   */
  reload(source: ReloadSource, actor?: PublicUser | null): Promise<ReloadResult> {
    const run = this.queue.then(() => this.reloadNow(source, actor));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(source: ReloadSource, actor?: PublicUser | null): Promise<ReloadResult> {
    const text = this.readText();
    this.lastText = text;
    let next: AgorConfig;
    try {
      // A missing file would mean "all defaults": far more likely an editor mid-save or a mistake.
      if (text === undefined) throw new ConfigError(`${this.file}: config file is missing or unreadable`);
      next = parseConfigText(text, this.file);
    } catch (error) {
      const line = (error as Error).message.split('\n')[0]!;
      this.log(`[config] reload (${source}) refused, the daemon keeps its running config: ${line}`);
      throw error instanceof ConfigError ? error : new ConfigError(line);
    }
    const changed = changedKeys(this.fileConfig, next);
    const applied = changed.filter((key) => !isRestartOnly(key));
    const pending = changedKeys(this.started, next).filter(isRestartOnly);
    const before = this.app.get('runtime').config;
    this.fileConfig = next;
    this.app.set('runtime', { ...this.app.get('runtime'), config: withRestartKeysFrom(this.started, next) });
    const result: ReloadResult = { file: this.file, changed, applied, pending_restart: pending };
    if (changed.length === 0) return result;
    this.log(
      `[config] reloaded (${source}): ${applied.length ? `applied ${applied.join(', ')}` : 'nothing to apply live'}` +
        (pending.length ? `; pending restart: ${pending.join(', ')}` : ''),
    );
    await this.apply(before);
    await recordSecurityEvent(this.app, {
      actor,
      action: 'config.reloaded',
      target: { type: 'config', id: path.basename(this.file) },
      details: { source, changed, pending_restart: pending },
    });
    return result;
  }

  /** What a change must do at once, beyond being read by the next caller. */
  private async apply(before: AgorConfig): Promise<void> {
    const now = this.app.get('runtime').config;
    // Raised limits: queued tasks that may now run start.
    runnerOf(this.app).reschedule();
    // The terminal switch turned off: open terminals close too (it is usually switched off for a reason).
    if (before.execution.allow_web_terminal && !now.execution.allow_web_terminal) {
      const terminals = terminalsOf(this.app);
      await Promise.all(terminals.all().map((t) => terminals.close(t, 'web terminal disabled by config')));
    }
    const [{ count }] = await this.app.get('db')('users').count({ count: '*' });
    for (const warning of startupWarnings({ config: now, userCount: Number(count) })) this.log(warning);
  }

  /**
   * Watches the file's directory, not the file: an editor that saves by renaming a new file over
   * the old one replaces the inode a file watch would follow.
   */
  watch(): void {
    const base = path.basename(this.file);
    this.watcher = fs.watch(path.dirname(this.file), { persistent: false }, (_event, name) => {
      if (name !== null && name !== base) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.onFileEvent(), DEBOUNCE_MS);
    });
    this.watcher.on('error', (error) => this.log(`[config] watching ${this.file} stopped: ${error.message}; use SIGHUP or \`agor config reload\``));
  }

  private async onFileEvent(): Promise<void> {
    if (this.readText() === this.lastText) return;
    await this.reload('file').catch(() => undefined); // already logged
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}

export function liveConfigOf(app: Application): LiveConfig {
  return app.get('liveConfig');
}
