import fs from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYamlValue } from 'yaml';
import { parseConfigDocument, parseConfigText } from '../../daemon/config/load.js';
import { writePrivateFile } from '../../daemon/config/home.js';
import { configSchema } from '../../daemon/config/schema.js';
import { CliError, runtimeOf, type GlobalOptions } from '../context.js';
import { readRunning } from '../../daemon/pidfile.js';
import { configReloadPath, type ReloadResult } from '../../daemon/config/config-reload.shared.js';
import { isRestartOnly } from '../../daemon/config/reload-keys.js';

function describeReload(result: ReloadResult): string {
  const applied = result.applied.length ? `applied live: ${result.applied.join(', ')}` : 'nothing changed that applies live';
  const pending = result.pending_restart.length ? `; pending restart (agor daemon stop && agor daemon start): ${result.pending_restart.join(', ')}` : '';
  return `${applied}${pending}`;
}

/** Asks the running daemon to reload now (admins), so the caller learns what took effect. */
async function reloadDaemon(globals: GlobalOptions): Promise<ReloadResult> {
  const { connect } = await import('../client.js');
  const { app } = await connect(globals);
  return (await app.service(configReloadPath).create({})) as ReloadResult;
}

/** Whether the schema defines this key, set or not (optional keys such as daemon.public_url have no default). */
function isSchemaKey(parts: string[]): boolean {
  let schema: { _zod: { def: { innerType?: unknown; shape?: Record<string, unknown> } } } = configSchema as never;
  for (const part of parts) {
    while (schema._zod.def.innerType) schema = schema._zod.def.innerType as never;
    const shape = schema._zod.def.shape;
    if (!shape || !Object.hasOwn(shape, part)) return false;
    schema = shape[part] as never;
  }
  return true;
}

function keyPath(key: string): string[] {
  if (!/^[a-z_]+(\.[a-z_]+)*$/.test(key)) throw new CliError(`"${key}" is not a config key; keys look like daemon.port`);
  return key.split('.');
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('read and change config.yaml');
  config
    .command('path')
    .description('print the config file in use')
    .action((_opts: unknown, cmd: Command) => console.log(runtimeOf(cmd.optsWithGlobals<GlobalOptions>()).paths.configPath));
  config
    .command('get [key]')
    .description('print the effective value of a key (defaults included), or the whole config')
    .action((key: string | undefined, _opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      let value: unknown = runtimeOf(globals).config;
      const parts = key ? keyPath(key) : [];
      if (!isSchemaKey(parts)) throw new CliError(`Unknown config key "${key}" (see config.example.yaml for the valid keys)`);
      for (const part of parts) value = (value as Record<string, unknown> | undefined)?.[part];
      if (value === undefined) console.log(globals.json ? 'null' : ''); // a known key that is not set and has no default
      else console.log(typeof value === 'object' || globals.json ? JSON.stringify(value, null, 2) : String(value));
    });
  config
    .command('set <key> <value>')
    .description('set a key (value in YAML syntax), validating it and keeping the file\'s comments')
    .action(async (key: string, raw: string, _opts: unknown, cmd: Command) => {
      const { paths } = runtimeOf(cmd.optsWithGlobals<GlobalOptions>());
      const text = fs.existsSync(paths.configPath) ? fs.readFileSync(paths.configPath, 'utf8') : '';
      const doc = parseConfigDocument(text, paths.configPath);
      if (doc.contents === null) doc.contents = doc.createNode({}) as never;
      doc.setIn(keyPath(key), parseYamlValue(raw));
      const updated = doc.toString();
      parseConfigText(updated, paths.configPath); // what the daemon will read: refused here, nothing written
      writePrivateFile(paths.configPath, updated);
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const set = `${key} = ${JSON.stringify(parseYamlValue(raw))} (${paths.configPath})`;
      if (!readRunning(paths.pidFile)) {
        console.log(`${set}; the daemon is not running, it applies at start`);
        return;
      }
      // The daemon watches the file and reloads by itself; asking it too says what took effect.
      try {
        // The watch may have reloaded first (then this reload changes nothing): report the key itself.
        const result = await reloadDaemon(globals);
        const pending = result.pending_restart.length ? `; pending restart (agor daemon stop && agor daemon start): ${result.pending_restart.join(', ')}` : '';
        console.log(`${set}; ${isRestartOnly(key) ? 'needs a restart' : `applied live: ${key}`}${pending}`);
      } catch {
        console.log(`${set}; the running daemon reloads the file by itself (${isRestartOnly(key) ? 'this key needs a restart' : 'this key applies live'}; see \`agor daemon status\`)`);
      }
    });
  config
    .command('check')
    .description('validate a config file without a daemon (default: the config in use)')
    .option('--file <file>', 'the file to check')
    .action((opts: { file?: string }, cmd: Command) => {
      const file = opts.file ?? runtimeOf(cmd.optsWithGlobals<GlobalOptions>(), { allowMissingConfig: true }).paths.configPath;
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (error) {
        throw new CliError(`${file}: cannot read config: ${(error as Error).message}`);
      }
      parseConfigText(text, file); // a ConfigError: one line naming the line, exit code 2
      console.log(`${file}: valid`);
    });
  config
    .command('reload')
    .description('make the running daemon re-read its config file now (admins; it also reloads on change and SIGHUP)')
    .action(async (_opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const result = await reloadDaemon(globals);
      if (globals.json) console.log(JSON.stringify(result, null, 2));
      else console.log(`${result.file}: ${describeReload(result)}`);
    });
}
