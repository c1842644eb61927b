import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emailProblem } from './email.shared.js';
import { userCreateSchema } from './users.schema.js';

// What an MTA accepts in RCPT TO (RFC 5321 Mailbox), including what the old zod .email() refused.
const ACCEPTED = [
  'a@b.c',
  'user+tag@localhost',
  'x@sub.example',
  'you@example.com',
  "o'brien@example.org",
  'first.last@mail.internal',
  'a!#$%&*/=?^_`{|}~-z@x-y.example',
  'root@agor.localhost',
  'ops@[192.168.0.10]',
  'u@xn--bcher-kva.example',
  `${'l'.repeat(64)}@b.c`,
];
const REFUSED: [string, RegExp][] = [
  ['plainaddress', /name@domain/],
  ['@b.c', /nothing before the @/],
  ['a@', /no domain/],
  ['a..b@b.c', /dots/],
  ['.a@b.c', /dots/],
  ['a.@b.c', /dots/],
  ['a b@b.c', /before the @/],
  ['"quoted"@b.c', /before the @/],
  ['a@b..c', /domain/],
  ['a@-b.c', /domain/],
  ['a@b-.c', /domain/],
  ['a@b.c.', /domain/],
  ['a@b_c.d', /domain/],
  ['a@bücher.example', /xn--/],
  ['ü@b.c', /before the @/],
  ['a@[300.1.1.1]', /domain/],
  ['a@b@c.d', /domain|before/],
  [`${'l'.repeat(65)}@b.c`, /64/],
  [`a@${'d'.repeat(250)}.com`, /254/],
  ['a@b.c\n', /domain/],
];

describe('email rule', () => {
  for (const address of ACCEPTED) {
    it(`accepts ${address.slice(0, 40)}`, () => assert.equal(emailProblem(address), null));
  }
  for (const [address, why] of REFUSED) {
    it(`refuses ${JSON.stringify(address.slice(0, 40))}`, () => assert.match(emailProblem(address) ?? 'accepted', why));
  }

  it('the users schema applies it after trimming and lower-casing', () => {
    const ok = userCreateSchema.safeParse({ email: '  User+Tag@LOCALHOST ', password: 'password-123' });
    assert.ok(ok.success);
    assert.equal(ok.data.email, 'user+tag@localhost');
    const bad = userCreateSchema.safeParse({ email: 'a..b@c.d', password: 'password-123' });
    assert.ok(!bad.success);
    assert.match(bad.error.issues[0]!.message, /dots/);
  });
});
