import { Injectable } from '@nestjs/common';
import { randomUUID, type KeyObject } from 'node:crypto';
import type { JwtAlgorithm } from '../auth.options.js';
import { AuthSettings, type TokenSettings } from '../options/auth-settings.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims, type AuthPrincipal, REGISTERED_CLAIMS } from './access-token.js';
import { CompactJwsSigner } from './compact-jws.js';
import { SigningKeys } from './signing-keys.js';

// Headers that would let a token name its own key or key source (RFC 7515 §4.1), or demand
// extensions we do not implement (`crit`): a token carrying any of them is refused, never followed.
const REFUSED_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit'] as const;

// RFC 9068 §4: `at+jwt`, or the full media type; media types compare case-insensitively.
const ACCEPTED_TYPES = new Set([ACCESS_TOKEN_TYPE, `application/${ACCESS_TOKEN_TYPE}`]);

export interface IssuedAccessToken {
  accessToken: string;
  /** Seconds. */
  expiresIn: number;
}

/** What jsonwebtoken demands once the header has been screened: one algorithm, our issuer and audience, expiry. */
export interface AccessTokenVerifyOptions {
  algorithms: [JwtAlgorithm];
  issuer: string;
  audience: string;
  /** Seconds of tolerance on `exp` and `nbf` (at most 30, see configuration). */
  clockTolerance: number;
}

/**
 * Signs access tokens and owns every rule for verifying them: the header screen and key choice
 * (`verificationKeyFor`), the options jsonwebtoken checks signature and registered claims with
 * (`verifyOptions`), and the claim types we rely on (`toPrincipal`).
 */
@Injectable()
export class AccessTokenService {
  readonly verifyOptions: Readonly<AccessTokenVerifyOptions>;
  private readonly config: TokenSettings;
  private readonly signer: CompactJwsSigner;

  constructor(
    private readonly keys: SigningKeys,
    settings: AuthSettings,
  ) {
    this.config = settings.tokens;
    this.signer = new CompactJwsSigner(keys.algorithm, keys.signing.key, { typ: ACCESS_TOKEN_TYPE, kid: keys.signing.kid });
    this.verifyOptions = Object.freeze<AccessTokenVerifyOptions>({
      algorithms: [keys.algorithm],
      issuer: this.config.issuer,
      audience: this.config.audience,
      clockTolerance: this.config.clockSkew,
    });
  }

  /** `extraClaims` were checked against the registered names (checkExtraClaims). */
  issue(principal: { userId: string; sessionId: string; roles: string[] }, extraClaims: Record<string, unknown> = {}): IssuedAccessToken {
    const issuedAt = Math.floor(Date.now() / 1000);
    const accessToken = this.signer.sign({
      ...extraClaims,
      sub: principal.userId,
      sid: principal.sessionId,
      roles: principal.roles,
      iat: issuedAt,
      exp: issuedAt + this.config.accessTokenTtl,
      aud: this.config.audience,
      iss: this.config.issuer,
      jti: randomUUID(),
    } satisfies AccessTokenClaims);
    return { accessToken, expiresIn: this.config.accessTokenTtl };
  }

  /**
   * The key to verify a raw token with, chosen by its `kid`, after refusing any header that is not
   * exactly ours: the configured algorithm (case-sensitive, so never `none`), `typ` at+jwt, a known
   * `kid`, and no key-carrying headers. Runs before any signature work.
   */
  verificationKeyFor(rawJwt: string): KeyObject {
    const header = decodeHeader(rawJwt);
    if (!header) throw invalid('undecodable header');
    if (header.alg !== this.keys.algorithm) throw invalid(`algorithm ${String(header.alg)}`);
    if (typeof header.typ !== 'string' || !ACCEPTED_TYPES.has(header.typ.toLowerCase())) throw invalid('not an access token');
    for (const name of REFUSED_HEADERS) if (Object.hasOwn(header, name)) throw invalid(`${name} header`);
    const key = typeof header.kid === 'string' ? this.keys.verificationKey(header.kid) : undefined;
    if (!key) throw invalid('unknown kid');
    return key;
  }

  /** Checks the verified payload has every claim we rely on, with the right type. */
  toPrincipal(payload: unknown): AuthPrincipal {
    if (typeof payload !== 'object' || payload === null) throw invalid('payload is not an object');
    const { sub, sid, jti, iat, exp, roles } = payload as Partial<Record<keyof AccessTokenClaims, unknown>>;
    if (
      !isNonEmptyString(sub) ||
      !isNonEmptyString(sid) ||
      !isNonEmptyString(jti) ||
      !Number.isSafeInteger(iat) ||
      !Number.isSafeInteger(exp) ||
      !Array.isArray(roles) ||
      !roles.every((role) => typeof role === 'string')
    ) {
      throw invalid('claims missing or mistyped');
    }
    // jsonwebtoken checks exp and nbf (when present); a token claiming to be issued in the future is refused here.
    if ((iat as number) > Date.now() / 1000 + this.config.clockSkew) throw invalid('issued in the future');
    const principal: AuthPrincipal = { userId: sub, sessionId: sid, roles, jti, issuedAt: iat as number, expiresAt: exp as number };
    for (const [claim, value] of Object.entries(payload)) if (!REGISTERED_CLAIMS.has(claim)) principal[claim] = value;
    return principal;
  }
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
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
