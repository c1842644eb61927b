import fs from 'node:fs';
import { writePrivateFile } from './config/home.js';

export interface PidInfo {
  pid: number;
  url: string;
  started_at: string;
  /** Hashes of the restart-only config values the daemon runs with (config/reload-keys.ts). */
  restart_fingerprint?: Record<string, string>;
  /** The systemd service running the daemon (then `systemctl` stops and restarts it, not the CLI). */
  systemd_unit?: string;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running daemon recorded in the pidfile, or null (a stale pidfile is ignored). */
export function readRunning(file: string): PidInfo | null {
  let info: PidInfo;
  try {
    info = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  return Number.isInteger(info.pid) && isAlive(info.pid) ? info : null;
}

export function writePidfile(file: string, info: PidInfo): void {
  writePrivateFile(file, JSON.stringify(info) + '\n');
}

/** Removes the pidfile only if it still names this process (a newer daemon may own it). */
export function removePidfile(file: string, pid = process.pid): void {
  try {
    if (JSON.parse(fs.readFileSync(file, 'utf8')).pid === pid) fs.unlinkSync(file);
  } catch {
    // already gone or unreadable: nothing of ours to remove
  }
}
