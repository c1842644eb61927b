import fs from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYamlValue } from 'yaml';
import { parseConfigDocument, validateConfig } from '../../daemon/config/load.js';
import { writePrivateFile } from '../../daemon/config/home.js';
import { configSchema } from '../../daemon/config/schema.js';
import { CliError, runtimeOf, type GlobalOptions } from '../context.js';

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
    .action((key: string, raw: string, _opts: unknown, cmd: Command) => {
      const { paths } = runtimeOf(cmd.optsWithGlobals<GlobalOptions>());
      const text = fs.existsSync(paths.configPath) ? fs.readFileSync(paths.configPath, 'utf8') : '';
      const doc = parseConfigDocument(text, paths.configPath);
      if (doc.contents === null) doc.contents = doc.createNode({}) as never;
      doc.setIn(keyPath(key), parseYamlValue(raw));
      validateConfig(doc.toJS(), paths.configPath);
      writePrivateFile(paths.configPath, doc.toString());
      console.log(`${key} = ${JSON.stringify(parseYamlValue(raw))} (${paths.configPath}); restart the daemon to apply`);
    });
}
