import fs from 'node:fs';
import { parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { configSchema, type AgorConfig } from './schema.js';
import { resolveAgorPaths, resolveSqliteFile, type AgorPaths, type PathInputs } from './paths.js';

/** A problem with config.yaml, phrased so the person reading it knows which key to fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface Runtime {
  paths: AgorPaths;
  config: AgorConfig;
  databaseFile: string;
}

/** Parses YAML text into a Document, naming the line of the first syntax error. */
export function parseConfigDocument(text: string, file: string): Document {
  const doc = parseDocument(text, { prettyErrors: false });
  const [first] = doc.errors;
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? ` line ${pos.line}, column ${pos.col}` : '';
    throw new ConfigError(`${file}${where}: invalid YAML: ${first.message.split('\n')[0]}`);
  }
  return doc;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.join('.');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const names = issue.keys.map((k) => (key ? `${key}.${k}` : k));
      return `unknown key ${names.map((n) => `"${n}"`).join(', ')} (see config.example.yaml for the valid keys)`;
    }
    case 'invalid_value':
      return `"${key}" must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return `"${key}" must be ${issue.expected === 'object' ? 'a mapping of keys' : `a ${issue.expected}`}`;
    default:
      return `"${key}": ${issue.message}`;
  }
}

/** Validates plain data against the schema; throws ConfigError naming every bad key. */
export function validateConfig(data: unknown, file: string): AgorConfig {
  const result = configSchema.safeParse(data ?? {});
  if (!result.success) {
    const lines = result.error.issues.map(describeIssue);
    throw new ConfigError(`${file}: ${lines.join('; ')}`);
  }
  return result.data;
}

export function readConfigFile(file: string): AgorConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return validateConfig({}, file);
    throw new ConfigError(`${file}: cannot read config: ${(error as Error).message}`);
  }
  return validateConfig(parseConfigDocument(text, file).toJS(), file);
}

/** The single config resolver: where files live, and what config.yaml says. */
export function loadRuntime(inputs: PathInputs = {}): Runtime {
  const paths = resolveAgorPaths(inputs);
  if (paths.configExplicit && !fs.existsSync(paths.configPath)) {
    throw new ConfigError(`${paths.configPath}: config file not found (given by --config or AGOR_CONFIG_PATH)`);
  }
  const config = readConfigFile(paths.configPath);
  return { paths, config, databaseFile: resolveSqliteFile(paths, config.database.url) };
}
