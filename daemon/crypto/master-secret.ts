// Loads the master secret that keys the secret box, from the environment or a file.
// Every message here is shown to operators, so each says what to do next, and none
// may ever echo the secret (or the candidate text) back.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export const MASTER_SECRET_ENV = 'AGOR_MASTER_SECRET';
export const MASTER_SECRET_FILE_ENV = 'AGOR_MASTER_SECRET_FILE';

const MIN_BYTES = 32;
const MIN_HEX_CHARS = MIN_BYTES * 2;
// A secret file is ~65 bytes; a cap stops a mistaken path (a log, a disk image) being slurped.
const MAX_FILE_BYTES = 4096;
// 32 uniformly random bytes have ~30 distinct values; fewer than this means a pattern,
// a repeated password, or zero fill. Catches obvious mistakes, it is not an entropy proof.
const MIN_DISTINCT_BYTES = 16;
const HOW_TO = 'generate one with: openssl rand -hex 32';

export class MasterSecretError extends Error {
  override readonly name = 'MasterSecretError';
}

export interface LoadedMasterSecret {
  secret: Buffer;
  source: 'env' | 'file';
}

export interface LoadMasterSecretOptions {
  /** Uid that must own AGOR_MASTER_SECRET_FILE; defaults to the daemon's own uid. */
  expectedOwnerUid?: number;
}

/** Returns null when neither variable is set (the daemon then stores marked plaintext). */
export function loadMasterSecret(
  env: NodeJS.ProcessEnv,
  opts: LoadMasterSecretOptions = {},
): LoadedMasterSecret | null {
  const inline = env[MASTER_SECRET_ENV];
  const file = env[MASTER_SECRET_FILE_ENV];
  // "Set" means defined, even if empty: an empty value is almost always a broken
  // template/compose substitution, and silently falling back to plaintext would hide it.
  if (inline !== undefined && file !== undefined) {
    throw new MasterSecretError(
      `both ${MASTER_SECRET_ENV} and ${MASTER_SECRET_FILE_ENV} are set; set only one of them`,
    );
  }
  if (inline !== undefined) {
    return { secret: parseMasterSecret(inline, MASTER_SECRET_ENV), source: 'env' };
  }
  if (file !== undefined) {
    return { secret: parseMasterSecret(readSecretFile(file, opts), `${MASTER_SECRET_FILE_ENV} (${file})`), source: 'file' };
  }
  return null;
}

function parseMasterSecret(raw: string, origin: string): Buffer {
  const text = raw.trim();
  if (text.length === 0) {
    throw new MasterSecretError(`${origin} is empty; ${HOW_TO}`);
  }
  // All-hex text is always read as hex: short hex is also valid base64, and decoding it
  // as base64 would accept e.g. 48 hex chars (24 bytes of entropy) as "36 bytes".
  if (/^[0-9a-fA-F]+$/.test(text)) {
    if (text.length < MIN_HEX_CHARS || text.length % 2 !== 0) {
      throw new MasterSecretError(
        `${origin} looks like hex but is ${text.length} characters; at least ${MIN_HEX_CHARS} (an even number) are required; ${HOW_TO}`,
      );
    }
    return checkStrength(Buffer.from(text, 'hex'), origin);
  }
  const bytes = decodeBase64Strict(text);
  if (bytes === null) {
    throw new MasterSecretError(
      `${origin} is neither hex nor base64/base64url (a password is not accepted); ${HOW_TO}`,
    );
  }
  if (bytes.length < MIN_BYTES) {
    throw new MasterSecretError(
      `${origin} decodes to ${bytes.length} bytes; at least ${MIN_BYTES} random bytes are required; ${HOW_TO}`,
    );
  }
  // Random base64 of this length contains both letter cases with overwhelming
  // probability; a single-case string is a passphrase that happens to be base64-shaped.
  if (!/[a-z]/.test(text) || !/[A-Z]/.test(text)) {
    throw new MasterSecretError(`${origin} looks like a passphrase, not random base64; ${HOW_TO}`);
  }
  return checkStrength(bytes, origin);
}

// Accepts standard or url-safe base64, padded or not, but never a mix of alphabets and
// never text that Buffer would only decode by skipping characters or dropping bits.
function decodeBase64Strict(text: string): Buffer | null {
  const m = /^([A-Za-z0-9+/]+|[A-Za-z0-9_-]+)(={0,2})$/.exec(text);
  if (!m) return null;
  const body = m[1]!;
  const padding = m[2]!;
  if (body.length % 4 === 1) return null;
  if (padding.length > 0 && (body.length + padding.length) % 4 !== 0) return null;
  const urlSafe = body.replace(/\+/g, '-').replace(/\//g, '_');
  const bytes = Buffer.from(urlSafe, 'base64url');
  return bytes.toString('base64url') === urlSafe ? bytes : null;
}

function checkStrength(bytes: Buffer, origin: string): Buffer {
  if (new Set(bytes).size < MIN_DISTINCT_BYTES) {
    throw new MasterSecretError(`${origin} is too repetitive to be a random secret; ${HOW_TO}`);
  }
  return bytes;
}

function readSecretFile(path: string, opts: LoadMasterSecretOptions): string {
  const where = `${MASTER_SECRET_FILE_ENV} (${path})`;
  if (path.trim().length === 0) {
    throw new MasterSecretError(`${MASTER_SECRET_FILE_ENV} is set but empty; set it to the path of the secret file`);
  }
  const expectedUid = opts.expectedOwnerUid ?? process.getuid?.();
  if (expectedUid === undefined) {
    throw new MasterSecretError(
      `${where}: file ownership cannot be verified on this platform; use ${MASTER_SECRET_ENV} instead`,
    );
  }
  let fd: number;
  try {
    // O_NONBLOCK so a FIFO at that path fails the regular-file check instead of hanging startup.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new MasterSecretError(`${where} cannot be opened (${code}); check the path and its permissions`);
  }
  try {
    // fstat on the opened descriptor, so the checks apply to exactly what is read
    // (no swap between check and read).
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new MasterSecretError(`${where} is not a regular file`);
    }
    const mode = st.mode & 0o7777;
    if (mode !== 0o600 && mode !== 0o400) {
      throw new MasterSecretError(
        `${where} has mode ${mode.toString(8).padStart(4, '0')}; it must be readable by its owner only: chmod 600 ${path}`,
      );
    }
    if (st.uid !== expectedUid) {
      throw new MasterSecretError(
        `${where} is owned by uid ${st.uid} but must be owned by uid ${expectedUid} (the daemon user): chown ${expectedUid} ${path}`,
      );
    }
    if (st.size > MAX_FILE_BYTES) {
      throw new MasterSecretError(`${where} is ${st.size} bytes; a master secret file holds a single line (${HOW_TO})`);
    }
    const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
    // Read one byte past the cap: st.size can be stale, so the limit is enforced on what was read.
    let len = 0;
    while (len < buf.length) {
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    if (len > MAX_FILE_BYTES) {
      throw new MasterSecretError(`${where} is over ${MAX_FILE_BYTES} bytes; a master secret file holds a single line (${HOW_TO})`);
    }
    const text = buf.subarray(0, len).toString('utf8');
    buf.fill(0);
    return text;
  } finally {
    closeSync(fd);
  }
}
