import fs from 'node:fs';

/**
 * The systemd system service this process runs as, if any: the last component of its cgroup
 * when it is a `.service` under system.slice. INVOCATION_ID alone would also be set in a shell a
 * user-session service (a terminal emulator) started.
 */
export function systemdUnitOf(env: NodeJS.ProcessEnv, cgroupText: string): string | undefined {
  if (!env.INVOCATION_ID) return undefined;
  const m = /^0::\/system\.slice\/(?:.*\/)?([A-Za-z0-9@_.\\:-]+\.service)$/m.exec(cgroupText);
  return m?.[1];
}

export function currentSystemdUnit(): string | undefined {
  try {
    return systemdUnitOf(process.env, fs.readFileSync('/proc/self/cgroup', 'utf8'));
  } catch {
    return undefined;
  }
}

/** The agor unit installed on a machine booted with systemd, if any (then `systemctl` starts agor). */
export function installedSystemdUnit(root = '/'): string | undefined {
  if (!fs.existsSync(`${root}run/systemd/system`)) return undefined;
  for (const dir of ['etc/systemd/system', 'lib/systemd/system', 'usr/lib/systemd/system']) {
    if (fs.existsSync(`${root}${dir}/agor.service`)) return 'agor.service';
  }
  return undefined;
}
