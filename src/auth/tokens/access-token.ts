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

/** Who made an authenticated request: the verified claims of their access token. */
export interface AuthPrincipal {
  userId: string;
  sessionId: string;
  roles: string[];
  jti: string;
  issuedAt: number;
  expiresAt: number;
}
