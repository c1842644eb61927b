import type { IncomingMessage } from 'node:http';
import { comparePassword } from './passwords.js';
import { AuthenticationBaseStrategy, JWTStrategy, type AuthenticationRequest, type AuthenticationResult } from '@feathersjs/authentication';
import { NotAuthenticated, TooManyRequests } from '@feathersjs/errors';
import type { Params } from '@feathersjs/feathers';
import type { Database } from '../db/database.js';
import { nowIso } from '../db/database.js';
import { toPublicUser, type UserRow } from '../services/users/users.schema.js';
import { hashApiKey, looksLikeApiKey } from './api-key-format.js';
import { issuedAtMsOf, loadActiveApiKey, loadActiveUser } from './principal.js';
import type { LoginLimiter } from './login-limiter.js';
import { recordLogin, recordLoginFailure } from '../audit/events.js';

/** Failures are counted per account and, with a higher ceiling (people share NATs), per address. */
export interface LoginLimits {
  account: LoginLimiter;
  address: LoginLimiter;
}

// A cost-12 hash of a random, forgotten string. Unknown emails are compared against it so a
// wrong password and an unknown account take the same time and give the same answer.
const DUMMY_HASH = '$2b$12$n3UGHvlMWkJHK5KucnIy..yo84./QCR6GCEDJJ5kS8ph/koQSEb.W';
const INVALID_LOGIN = 'Invalid email or password';

function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers?.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match ? match[1]! : null;
}

function tooMany(seconds: number): TooManyRequests {
  return new TooManyRequests(`Too many failed attempts; try again in ${seconds} seconds`, { retryAfter: seconds });
}

/** JWT from `Authorization: Bearer`, re-checking the user (and the API key behind it, if any) on every call. */
export class AgorJwtStrategy extends JWTStrategy {
  constructor(private readonly db: Database) {
    super();
  }

  override async parse(req: IncomingMessage) {
    const token = bearerToken(req);
    if (!token || looksLikeApiKey(token)) return null;
    return { strategy: this.name!, accessToken: token };
  }

  override async authenticate(authentication: AuthenticationRequest, params: Params & { jwt?: object }): Promise<any> {
    const { accessToken } = authentication;
    if (typeof accessToken !== 'string' || !accessToken) throw new NotAuthenticated('No access token');
    const payload = await this.authentication!.verifyAccessToken(accessToken, params.jwt);
    const user = await loadActiveUser(this.db, payload.sub, issuedAtMsOf(payload), { viaApiKey: typeof payload.akid === 'string' });
    const result: AuthenticationResult = { accessToken, authentication: { strategy: 'jwt', accessToken, payload }, user };
    if (typeof payload.akid === 'string') {
      const key = await loadActiveApiKey(this.db, { id: payload.akid });
      if (key.user_id !== user.id) throw new NotAuthenticated('Invalid API key');
      result.apiKey = { id: key.id, scope: key.scope };
    }
    return result;
  }
}

/** `Authorization: Bearer agor_sk_...`: a user's long-lived, revocable, scoped key. */
export class ApiKeyStrategy extends AuthenticationBaseStrategy {
  constructor(
    private readonly db: Database,
    private readonly limiter: LoginLimiter,
  ) {
    super();
  }

  async parse(req: IncomingMessage) {
    const token = bearerToken(req);
    return token && looksLikeApiKey(token) ? { strategy: this.name!, apiKey: token } : null;
  }

  async authenticate(authentication: AuthenticationRequest, params: Params): Promise<AuthenticationResult> {
    const ipKey = `ip:${params.ip ?? 'unknown'}`;
    const wait = this.limiter.retryAfter([ipKey]);
    if (wait > 0) throw tooMany(wait);
    const { apiKey } = authentication;
    if (typeof apiKey !== 'string' || !looksLikeApiKey(apiKey)) throw new NotAuthenticated('Invalid API key');
    let key;
    try {
      key = await loadActiveApiKey(this.db, { key_hash: hashApiKey(apiKey) });
    } catch (error) {
      this.limiter.recordFailure([ipKey]);
      throw error;
    }
    const user = await loadActiveUser(this.db, key.user_id, Date.parse(key.created_at), { viaApiKey: true });
    await this.db('api_keys').where('id', key.id).update({ last_used_at: nowIso() });
    return { authentication: { strategy: 'apikey' }, user, apiKey: { id: key.id, scope: key.scope } };
  }
}

/** Email + password, with bcrypt and per-account / per-address failure limits. */
export class AgorLocalStrategy extends AuthenticationBaseStrategy {
  constructor(
    private readonly db: Database,
    private readonly limits: LoginLimits,
  ) {
    super();
  }

  async authenticate(data: AuthenticationRequest, params: Params): Promise<AuthenticationResult> {
    const email = typeof data.email === 'string' ? data.email.trim().toLowerCase() : '';
    const password = typeof data.password === 'string' ? data.password : '';
    const account = `email:${email}`;
    const address = `ip:${params.ip ?? 'unknown'}`;
    const wait = Math.max(this.limits.account.retryAfter([account]), this.limits.address.retryAfter([address]));
    if (wait > 0) throw tooMany(wait);
    const row = email ? await this.db<UserRow>('users').where('email', email).first() : undefined;
    const matches = await comparePassword(password, row?.password ?? DUMMY_HASH);
    if (!row || !matches) {
      this.limits.account.recordFailure([account]);
      this.limits.address.recordFailure([address]);
      await recordLoginFailure(this.db, { email, reason: row ? 'wrong_password' : 'unknown_account', userId: row?.id, ip: params.ip });
      throw new NotAuthenticated(INVALID_LOGIN);
    }
    if (row.disabled) {
      await recordLoginFailure(this.db, { email, reason: 'disabled', userId: row.id, ip: params.ip });
      throw new NotAuthenticated('This account is disabled; ask an admin to enable it');
    }
    this.limits.account.reset(account);
    await recordLogin(this.db, row, params.ip);
    return { authentication: { strategy: 'local' }, user: toPublicUser(row) };
  }
}
