/** The `typ` header of our access tokens (RFC 9068); a token of any other type is refused. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** The claims of an access token as signed and as verified. */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  /** User id. */
  sub: string;
  /** Session id: the refresh-token family this token was issued from. */
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  roles: string[];
}

/** The claims the package itself puts in every access token; any other top-level claim is an extra claim. */
export const REGISTERED_CLAIMS: ReadonlySet<string> = new Set(['iss', 'aud', 'sub', 'sid', 'jti', 'iat', 'exp', 'nbf', 'roles']);

/** The package's fields of a principal. */
export interface AuthPrincipalFields {
  userId: string;
  sessionId: string;
  roles: string[];
  jti: string;
  /** Seconds since the epoch. */
  issuedAt: number;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/**
 * Who made an authenticated request: the verified claims of their access token, with the module's
 * `extraClaims` at the top level. Type those with the parameter: `AuthPrincipal<{ tenantId: string }>`.
 */
export type AuthPrincipal<TExtraClaims extends object = Record<string, unknown>> = AuthPrincipalFields & TExtraClaims;
