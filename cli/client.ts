// The Feathers REST clients commands call the daemon with. Loaded on first use, not with the
// command's definition: `agor <noun> --help` then starts without the client and the config schema.
import type { Application } from '@feathersjs/feathers';
import type { GlobalOptions } from './context.js';

async function restApp(url: string, headers?: Record<string, string>): Promise<Application> {
  const [{ feathers }, restModule] = await Promise.all([import('@feathersjs/feathers'), import('@feathersjs/rest-client')]);
  // The CommonJS module is the function itself; under NodeNext its typings see a namespace.
  const rest = restModule.default as unknown as typeof restModule.default.default;
  return feathers().configure(rest(url).fetch(globalThis.fetch, headers ? { headers } : {}));
}

/** A Feathers REST client authenticated as the CLI's user (AGOR_API_KEY, else the `agor login` token). */
export async function connect(opts: GlobalOptions) {
  const { credentials } = await import('./context.js');
  const { url, token, runtime } = credentials(opts);
  return { app: await restApp(url, { Authorization: `Bearer ${token}` }), url, runtime };
}

/** The anonymous client, for logging in. */
export function anonymousClient(url: string): Promise<Application> {
  return restApp(url);
}
