import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { AuthenticationService, type AuthenticationParams, type AuthenticationResult, type JwtVerifyOptions } from '@feathersjs/authentication';
import type { Secret, SignOptions } from 'jsonwebtoken';
import { NotAuthenticated } from '@feathersjs/errors';
import type { Params } from '@feathersjs/feathers';
import type { Application } from '../declarations.js';
import { AgorJwtStrategy, AgorLocalStrategy, ApiKeyStrategy } from './strategies.js';
import { LoginLimiter } from './login-limiter.js';

/** One address may fail this many times more than one account before it is refused. */
const ADDRESS_FACTOR = 5;

/**
 * Tokens minted for an API-key login (a socket) name the key, so revoking it ends them too. Every
 * token records when it was issued to the millisecond (iat_ms): a password change ends the tokens
 * issued before it, and the token handed to the changing client right after must not fall in the
 * same second as the change.
 */
export class AgorAuthenticationService extends AuthenticationService {
  /**
   * The secret as a key object, built once. Given the string, jsonwebtoken first tries to parse it
   * as a PEM public key and then wraps it, on every sign and verify (0.6-0.9 ms of each REST request
   * and socket call, against ~20 µs). Feathers' setup still wants the string in the configuration.
   * (A plain property: Feathers calls the service through an object derived from it, where a
   * `#private` field would not be found.)
   */
  private secretKey: KeyObject | undefined;

  private key(): KeyObject {
    this.secretKey ??= crypto.createSecretKey(Buffer.from(this.configuration.secret as string));
    return this.secretKey;
  }

  override async createAccessToken(payload: string | Buffer | object, optsOverride?: SignOptions, secretOverride?: Secret) {
    return super.createAccessToken(payload, optsOverride, secretOverride ?? this.key());
  }

  override async verifyAccessToken(accessToken: string, optsOverride?: JwtVerifyOptions, secretOverride?: Secret) {
    return super.verifyAccessToken(accessToken, optsOverride, secretOverride ?? this.key());
  }

  override async getPayload(authResult: AuthenticationResult, params: Params) {
    const payload = { ...(await super.getPayload(authResult, params)), iat_ms: Date.now() };
    return authResult.apiKey ? { ...payload, akid: authResult.apiKey.id } : payload;
  }

  /** Logging out needs a credential; without one Feathers' remove fails with a TypeError (a 500). */
  override async remove(id: string | null, params?: AuthenticationParams) {
    if (!params?.authentication) throw new NotAuthenticated('Not authenticated');
    return super.remove(id, params);
  }
}

export function readJwtSecret(file: string): string {
  let secret: string;
  try {
    secret = fs.readFileSync(file, 'utf8').trim();
  } catch {
    throw new Error(`JWT key ${file} is missing: run \`agor init\` first`);
  }
  if (secret.length < 32) throw new Error(`JWT key ${file} is too short: remove it and run \`agor init\` again`);
  return secret;
}

export function configureAuthentication(app: Application): void {
  const { config, paths } = app.get('runtime');
  const db = app.get('db');
  app.set('authentication' as never, {
    secret: readJwtSecret(paths.jwtKey),
    entity: 'user',
    service: 'users',
    entityId: 'id',
    authStrategies: ['jwt', 'apikey', 'local'],
    parseStrategies: ['apikey', 'jwt'],
    jwtOptions: {
      header: { typ: 'access' },
      audience: 'agor',
      issuer: 'agor',
      algorithm: 'HS256',
      expiresIn: config.auth.jwt_ttl,
    },
  } as never);
  const windowMs = config.auth.login_lockout_seconds * 1000;
  const limits = {
    account: new LoginLimiter(config.auth.login_max_failures, windowMs),
    address: new LoginLimiter(config.auth.login_max_failures * ADDRESS_FACTOR, windowMs),
  };
  const auth = new AgorAuthenticationService(app as never);
  auth.register('jwt', new AgorJwtStrategy(db));
  auth.register('apikey', new ApiKeyStrategy(db, limits.address));
  auth.register('local', new AgorLocalStrategy(db, limits));
  app.use('authentication' as never, auth as never);
}
