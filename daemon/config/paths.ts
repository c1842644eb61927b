import os from 'node:os';
import path from 'node:path';

/**
 * The ONE place that decides where agor keeps its files. Every code path (daemon, CLI, tests)
 * asks this resolver, so `--config`, AGOR_CONFIG_PATH and AGOR_HOME are honoured everywhere.
 *
 * Precedence for the state directory (AGOR_HOME): the AGOR_HOME variable, else the directory
 * of an explicitly given config file, else ~/.agor. So pointing agor at another config file
 * keeps its database, keys, pidfile and logs beside that file and never touches ~/.agor.
 */
export interface AgorPaths {
  home: string;
  configPath: string;
  /** True when the config path came from --config or AGOR_CONFIG_PATH. */
  configExplicit: boolean;
  jwtKey: string;
  pidFile: string;
  logFile: string;
  cliToken: string;
  defaultDatabase: string;
}

export interface PathInputs {
  configFlag?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function resolveAgorPaths({ configFlag, env = process.env, cwd = process.cwd() }: PathInputs = {}): AgorPaths {
  const explicitConfig = configFlag || env.AGOR_CONFIG_PATH || undefined;
  const configPath = explicitConfig ? path.resolve(cwd, explicitConfig) : undefined;
  const home = env.AGOR_HOME
    ? path.resolve(cwd, env.AGOR_HOME)
    : configPath
      ? path.dirname(configPath)
      : path.join(os.homedir(), '.agor');
  return {
    home,
    configPath: configPath ?? path.join(home, 'config.yaml'),
    configExplicit: Boolean(configPath),
    jwtKey: path.join(home, 'jwt.key'),
    pidFile: path.join(home, 'daemon.pid'),
    logFile: path.join(home, 'daemon.log'),
    cliToken: path.join(home, 'cli-token.json'),
    defaultDatabase: path.join(home, 'agor.db'),
  };
}

/** Resolves `database.url` (sqlite:<path>) to a file path; relative paths are under AGOR_HOME. */
export function resolveSqliteFile(paths: AgorPaths, url: string | undefined): string {
  if (!url) return paths.defaultDatabase;
  const file = url.replace(/^sqlite:(\/\/)?/, '');
  return path.resolve(paths.home, file);
}
