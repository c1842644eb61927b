// How a user secret's value becomes its stored form and fingerprint. The service, the startup
// encryption of plaintext values and rotation all go through here, so there is one binding of a
// value to its row (owner + name) and one rule for fingerprints.
import { sealPlain, type SecretAad, type SecretBox } from './secret-box.js';

export interface StoredForm {
  value: string;
  fingerprint: string | null;
}

/** Seals under `box`, or stores marked plaintext (fingerprint null) when no master secret is configured. */
export function sealForStorage(box: SecretBox | null, value: string, aad: SecretAad): StoredForm {
  if (!box) return { value: sealPlain(value), fingerprint: null };
  return { value: box.seal(value, aad), fingerprint: box.fingerprint(value, aad) };
}

/** The additional authenticated data of a row: its owner and its name. */
export function aadOf(row: { user_id: string; name: string }): SecretAad {
  return { userId: row.user_id, name: row.name };
}
