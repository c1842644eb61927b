// Secret box for per-user credentials at rest.
//
// Stored formats:
//   v1:<kid>:<iv b64url>:<ciphertext b64url>:<tag b64url>   AES-256-GCM
//   plain:<b64url>                                          no master secret configured
//
// The kid lets rotation tell values sealed under the old master secret from the new
// one, and lets a wrong master secret be reported as such instead of as "tampering".
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

// HKDF constants. These are part of the on-disk format: changing any of them makes every
// stored v1 value undecryptable, so they are fixed forever (a new format gets a new
// version prefix and new constants instead). The salt is public; it only separates
// agor's keys from anything else that might be derived from the same master secret.
const HKDF_SALT = Buffer.from('agor/secret-box/hkdf-salt/v1', 'utf8');
const HKDF_INFO_ENC = Buffer.from('agor/secret-box/v1/aes-256-gcm', 'utf8');
const HKDF_INFO_KID = Buffer.from('agor/secret-box/v1/key-id', 'utf8');
const HKDF_INFO_FINGERPRINT = Buffer.from('agor/secret-box/v1/fingerprint', 'utf8');
const KID_MESSAGE = 'agor-kid';

const VERSION = 'v1';
const PLAIN_PREFIX = 'plain:';
const IV_BYTES = 12; // the GCM standard nonce size; random 96-bit IVs are safe far beyond our volume
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const MIN_MASTER_SECRET_BYTES = 32;
const KID_RE = /^[0-9a-f]{8}$/;
const B64URL_RE = /^[A-Za-z0-9_-]*$/;

export type SecretBoxErrorCode =
  | 'MALFORMED'
  | 'KEY_MISMATCH'
  | 'AUTH_FAILED'
  | 'NO_MASTER_SECRET'
  | 'INVALID_INPUT';

/** Messages never contain a secret value or key material. */
export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
  constructor(
    readonly code: SecretBoxErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Identifies which secret a value belongs to; bound into the ciphertext as AAD. */
export interface SecretAad {
  userId: string;
  name: string;
}

const malformed = () => new SecretBoxError('MALFORMED', 'malformed stored secret');

function canonicalAad({ userId, name }: SecretAad): Buffer {
  // NUL is the field separator, so forbidding it keeps the encoding unambiguous
  // ("a\0name:b" as a userId must not collide with userId "a", name "b").
  // Empty fields are refused because binding to "nobody" is always a caller bug.
  for (const [field, v] of [['userId', userId], ['name', name]] as const) {
    if (typeof v !== 'string' || v.length === 0 || v.includes('\u0000')) {
      throw new SecretBoxError('INVALID_INPUT', `secret ${field} must be a non-empty string without NUL`);
    }
  }
  // The version is bound too, so a future format sharing this key cannot be downgraded to v1.
  return Buffer.from(`agor-secret:${VERSION}\u0000user:${userId}\u0000name:${name}`, 'utf8');
}

function encodeUtf8Strict(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  // Lone surrogates are silently replaced by U+FFFD; refuse rather than store a different value.
  if (bytes.toString('utf8') !== value) {
    throw new SecretBoxError('INVALID_INPUT', 'secret value is not well-formed Unicode');
  }
  return bytes;
}

// Buffer's base64url decoder skips junk characters and ignores trailing bits, so a
// hand-edited value could otherwise decode "successfully" to different bytes.
function decodeB64url(text: string): Buffer {
  if (!B64URL_RE.test(text) || text.length % 4 === 1) throw malformed();
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw malformed();
  return bytes;
}

function hkdf(master: Buffer, info: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', master, HKDF_SALT, info, KEY_BYTES));
}

interface ParsedV1 {
  kid: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

function parseV1(stored: string): ParsedV1 {
  const parts = stored.split(':');
  if (parts.length !== 5 || parts[0] !== VERSION) throw malformed();
  const [, kid, ivText, ctText, tagText] = parts as [string, string, string, string, string];
  if (!KID_RE.test(kid)) throw malformed();
  const iv = decodeB64url(ivText);
  const ciphertext = decodeB64url(ctText);
  const tag = decodeB64url(tagText);
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw malformed();
  return { kid, iv, ciphertext, tag };
}

export class SecretBox {
  /** Short public id of the master secret (8 hex chars); safe to log and store. */
  readonly kid: string;
  // Private fields keep key material out of console.log / JSON.stringify / inspect.
  readonly #encKey: Buffer;
  readonly #fingerprintKey: Buffer;

  private constructor(master: Buffer) {
    this.#encKey = hkdf(master, HKDF_INFO_ENC);
    this.#fingerprintKey = hkdf(master, HKDF_INFO_FINGERPRINT);
    // The kid comes from its own derived key so publishing it says nothing about the
    // encryption or fingerprint keys.
    this.kid = createHmac('sha256', hkdf(master, HKDF_INFO_KID)).update(KID_MESSAGE).digest('hex').slice(0, 8);
  }

  static fromMasterSecret(secret: Buffer): SecretBox {
    if (!Buffer.isBuffer(secret) || secret.length < MIN_MASTER_SECRET_BYTES) {
      throw new SecretBoxError('INVALID_INPUT', `master secret must be at least ${MIN_MASTER_SECRET_BYTES} bytes`);
    }
    return new SecretBox(secret);
  }

  seal(value: string, aad: SecretAad): string {
    const plaintext = encodeUtf8Strict(value);
    const aadBytes = canonicalAad(aad);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#encKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aadBytes);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.kid, iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join(':');
  }

  open(stored: string, aad: SecretAad): string {
    const aadBytes = canonicalAad(aad);
    const { kid, iv, ciphertext, tag } = parseV1(stored);
    if (kid !== this.kid) {
      throw new SecretBoxError(
        'KEY_MISMATCH',
        `this value was encrypted under master key ${kid}, but the configured master secret has key id ${this.kid}: ` +
          'the master secret is wrong or rotation did not finish',
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', this.#encKey, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aadBytes);
    decipher.setAuthTag(tag);
    // GCM releases plaintext from update() before final() verifies the tag; it is only
    // returned once final() has succeeded.
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw new SecretBoxError(
        'AUTH_FAILED',
        'ciphertext failed authentication (tampered, corrupted, or bound to another user/name)',
      );
    }
    return plaintext.toString('utf8');
  }

  /**
   * Keyed, owner-bound hash prefix (16 hex chars) for "is this the same value as before"
   * checks and display. Keyed so a leaked fingerprint cannot be brute-forced offline
   * against guessed API keys; owner-bound so fingerprints cannot be compared across users.
   */
  fingerprint(value: string, aad: SecretAad): string {
    return createHmac('sha256', this.#fingerprintKey)
      .update(canonicalAad(aad))
      .update('\u0000') // canonicalAad forbids NUL in its fields, so this separator is unambiguous
      .update(encodeUtf8Strict(value))
      .digest('hex')
      .slice(0, 16);
  }
}

/** Marked plaintext for installs without a master secret (the daemon warns elsewhere). */
export function sealPlain(value: string): string {
  return PLAIN_PREFIX + encodeUtf8Strict(value).toString('base64url');
}

export function isPlain(stored: string): boolean {
  return stored.startsWith(PLAIN_PREFIX);
}

/** Key id of a v1 value, null for plain values; throws MALFORMED for anything else. */
export function kidOf(stored: string): string | null {
  if (isPlain(stored)) return null;
  return parseV1(stored).kid;
}

/** Opens either format. Plain values carry no owner binding, so `aad` only applies to v1. */
export function openAny(stored: string, aad: SecretAad, box: SecretBox | null): string {
  if (isPlain(stored)) {
    // Plain values have no tag, so strict UTF-8 decoding is the only guard against returning garbage.
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(decodeB64url(stored.slice(PLAIN_PREFIX.length)));
    } catch (err) {
      throw err instanceof SecretBoxError ? err : malformed();
    }
  }
  if (box === null) {
    const kid = kidOf(stored); // surfaces MALFORMED before complaining about configuration
    throw new SecretBoxError(
      'NO_MASTER_SECRET',
      `this value was encrypted under master key ${kid}, but no master secret is configured ` +
        '(set AGOR_MASTER_SECRET or AGOR_MASTER_SECRET_FILE)',
    );
  }
  return box.open(stored, aad);
}
