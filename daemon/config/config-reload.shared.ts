/** Path and methods of the config-reload service (`agor config reload`); imported by the CLI. */
export const configReloadPath = 'config-reload';
export const configReloadMethods = ['create'] as const;

/** What a reload did: key names only, never values. */
export interface ReloadResult {
  file: string;
  /** Keys whose value in the file changed since the last reload (or start). */
  changed: string[];
  /** Of those, the keys now in effect. */
  applied: string[];
  /** Every key whose file value differs from what the daemon started with and that needs a restart. */
  pending_restart: string[];
}
