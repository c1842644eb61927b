import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
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
  /** Cloned repos (<dataDir>/repos) and worktrees (<dataDir>/worktrees/<repo>/<name>). */
  dataDir: string;
}

/** Parses YAML text into a Document, naming the line of the first syntax error. */
export function parseConfigDocument(text: string, file: string, lineCounter = new LineCounter()): Document {
  // linePos is only filled in by prettyErrors, which also rewrites the message; count lines ourselves.
  const doc = parseDocument(text, { prettyErrors: false, lineCounter });
  const [first] = doc.errors;
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    const where = pos ? ` line ${pos.line}, column ${pos.col}` : '';
    throw new ConfigError(`${file}${where}: invalid YAML: ${first.message.split('\n')[0]}`);
  }
  return doc;
}

/** The line of the YAML node at a key path, if the file has one there. */
export type LineOf = (keyPath: PropertyKey[]) => number | undefined;

function describeIssue(issue: z.core.$ZodIssue, lineOf?: LineOf): string {
  const text = describeIssueText(issue);
  // An unknown key lives one level below the issue's path; name the line of the first one.
  const at = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  const line = lineOf?.(at) ?? lineOf?.(issue.path);
  return line ? `line ${line}: ${text}` : text;
}

function describeIssueText(issue: z.core.$ZodIssue): string {
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

/** An empty YAML value (`key:` with nothing after it, as config.example.yaml shows unset keys) means "not set". */
function dropEmpty(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, dropEmpty(v)]));
}

/** Validates plain data against the schema; throws ConfigError naming every bad key. */
export function validateConfig(data: unknown, file: string, lineOf?: LineOf): AgorConfig {
  const result = configSchema.safeParse(dropEmpty(data ?? {}));
  if (!result.success) {
    const lines = result.error.issues.map((issue) => describeIssue(issue, lineOf));
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
  return parseConfigText(text, file);
}

/** Parses and validates config text; errors name the file and, where it has one, the line. */
export function parseConfigText(text: string, file: string): AgorConfig {
  const lineCounter = new LineCounter();
  const doc = parseConfigDocument(text, file, lineCounter);
  const lineOf: LineOf = (keyPath) => {
    const node = doc.getIn(keyPath as unknown[], true) as { range?: [number, number, number] } | undefined;
    return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
  };
  return validateConfig(doc.toJS(), file, lineOf);
}

/** The single config resolver: where files live, and what config.yaml says. */
export function loadRuntime(inputs: PathInputs & { allowMissingConfig?: boolean } = {}): Runtime {
  const paths = resolveAgorPaths(inputs);
  // A mistyped --config must not silently run on defaults; only `agor init` may create the file.
  if (paths.configExplicit && !inputs.allowMissingConfig && !fs.existsSync(paths.configPath)) {
    throw new ConfigError(`${paths.configPath}: config file not found (given by --config or AGOR_CONFIG_PATH)`);
  }
  const config = readConfigFile(paths.configPath);
  const dataDir = path.resolve(paths.home, config.daemon.data_dir ?? 'data');
  return { paths, config, databaseFile: resolveSqliteFile(paths, config.database.url), dataDir };
}
