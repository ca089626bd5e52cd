import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService, type JwtSignOptions } from '@nestjs/jwt';
import { randomUUID, type KeyObject } from 'node:crypto';
import type { Configuration, TokenConfig } from '../../config/configuration.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims, type AuthPrincipal } from './access-token.js';
import { SigningKeys } from './signing-keys.js';

// Headers that would let a token name its own key or key source; we never trust them.
const REFUSED_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit'];

export interface IssuedAccessToken {
  accessToken: string;
  /** Seconds. */
  expiresIn: number;
}

/** Signs access tokens and screens their headers before verification. Owns their lifetime. */
@Injectable()
export class AccessTokenService {
  private readonly config: TokenConfig;
  private readonly signOptions: JwtSignOptions;

  constructor(
    private readonly jwt: JwtService,
    private readonly keys: SigningKeys,
    config: ConfigService<Configuration, true>,
  ) {
    this.config = config.get('tokens', { infer: true });
    this.signOptions = {
      privateKey: keys.signing.key as never, // a KeyObject: jsonwebtoken takes it, the typings predate it
      algorithm: keys.algorithm,
      keyid: keys.signing.kid,
      header: { alg: keys.algorithm, typ: ACCESS_TOKEN_TYPE },
      issuer: this.config.issuer,
      audience: this.config.audience,
      expiresIn: this.config.accessTokenTtl,
    };
  }

  issue(principal: { userId: string; sessionId: string; roles: string[] }): IssuedAccessToken {
    const payload = { sub: principal.userId, sid: principal.sessionId, roles: principal.roles };
    const accessToken = this.jwt.sign(payload, { ...this.signOptions, jwtid: randomUUID() });
    return { accessToken, expiresIn: this.config.accessTokenTtl };
  }

  /**
   * The key to verify a raw token with, chosen by its `kid`, after refusing any header that is not
   * exactly ours: algorithm, `typ`, a known `kid`, and no key-carrying headers.
   */
  verificationKeyFor(rawJwt: string): KeyObject {
    const header = decodeHeader(rawJwt);
    if (!header) throw invalid('undecodable header');
    if (header.alg !== this.keys.algorithm) throw invalid(`algorithm ${String(header.alg)}`);
    if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== ACCESS_TOKEN_TYPE) throw invalid('not an access token');
    if (REFUSED_HEADERS.some((name) => name in header)) throw invalid('key-carrying header');
    const key = typeof header.kid === 'string' ? this.keys.verificationKey(header.kid) : undefined;
    if (!key) throw invalid('unknown kid');
    return key;
  }

  /** Checks the verified payload has every claim we rely on, with the right type. */
  toPrincipal(payload: Partial<Record<keyof AccessTokenClaims, unknown>>): AuthPrincipal {
    const { sub, sid, jti, iat, exp, roles } = payload;
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      !Number.isInteger(iat) ||
      !Number.isInteger(exp) ||
      !Array.isArray(roles) ||
      !roles.every((role) => typeof role === 'string')
    ) {
      throw invalid('claims missing or mistyped');
    }
    // jsonwebtoken checks exp and nbf; a token claiming to be issued in the future is refused here.
    if ((iat as number) > Date.now() / 1000 + this.config.clockSkew) throw invalid('issued in the future');
    return { userId: sub, sessionId: sid, roles, jti, issuedAt: iat as number, expiresAt: exp as number };
  }
}

function invalid(reason: string): AuthError {
  return new AuthError(AuthErrorCode.TokenInvalid, { reason, bearer: true });
}

function decodeHeader(rawJwt: string): Record<string, unknown> | undefined {
  const dot = rawJwt.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(rawJwt.slice(0, dot), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header) ? (header as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
