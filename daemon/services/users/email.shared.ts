/**
 * What the daemon accepts as a user's email (their login): THE rule, used by the users schema (so
 * by `agor init`, `agor user create` and the API) and by the UI's form, which imports this file.
 *
 * Any address a mail server would take (RFC 5321): a dot-atom local part of up to 64 characters
 * (letters, digits and !#$%&'*+/=?^_`{|}~- , dots between them), then a domain of one or more
 * LDH labels (`localhost`, `b.c`, `mail.example` — no public-suffix check: team boxes use internal
 * names) or an IPv4 literal. Not accepted: quoted local parts and raw non-ASCII (write an
 * internationalized domain in its xn-- form), which are rare and easy to confuse with other names.
 */

const ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const IPV4_LITERAL = /^\[(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\]$/;

export const MAX_EMAIL_LENGTH = 254;

/** Why `address` is not an acceptable email, as a phrase after "email ", or null when it is. */
export function emailProblem(address: string): string | null {
  if (address.length > MAX_EMAIL_LENGTH) return `must be at most ${MAX_EMAIL_LENGTH} characters`;
  const at = address.lastIndexOf('@');
  if (at < 0) return 'must be an email address: name@domain';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length === 0) return 'has nothing before the @';
  if (local.length > 64) return 'must have at most 64 characters before the @';
  if (!local.split('.').every((atom) => ATOM.test(atom))) {
    return "may have only letters, digits, dots (not two in a row, nor first or last) and !#$%&'*+/=?^_`{|}~- before the @";
  }
  if (domain.length === 0) return 'has no domain after the @';
  if (IPV4_LITERAL.test(domain)) return null;
  if (domain.length > 253 || !domain.split('.').every((label) => LABEL.test(label))) {
    return 'must have a domain after the @ made of letters, digits and hyphens, dot-separated (an internationalized domain in its xn-- form)';
  }
  return null;
}
