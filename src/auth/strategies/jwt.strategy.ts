import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { JWT_STRATEGY } from '../auth.constants.js';
import type { AuthRequest } from '../authenticated-request.js';
import { RevokedSessions } from '../sessions/revoked-sessions.js';
import type { AuthPrincipal } from '../tokens/access-token.js';
import { AccessTokenService } from '../tokens/access-token.service.js';
import { VerifiedTokenCache } from '../tokens/verified-token-cache.js';

// passport-jwt's own reading of the header: the second whitespace-separated word when the first is `bearer` in any case.
const bearerTokenOfAnyShape: (request: AuthRequest) => string | null = ExtractJwt.fromAuthHeaderAsBearerToken();
const BEARER = /^bearer /i;
const WHITESPACE = /\s/;

/**
 * What follows `Bearer ` in the Authorization header, unchecked. Enough to look the token up among
 * verified ones: none holds whitespace, so an exact match is the token bearerTokenOf reads.
 */
export function presentedBearerTokenOf(request: AuthRequest): string | undefined {
  const header = request.headers.authorization;
  return typeof header === 'string' && BEARER.test(header) ? header.slice(7) : undefined;
}

/**
 * The access token of a request, exactly as passport-jwt reads it (the strategy and the guard's cache
 * of verified tokens must agree on it), without its allocations for the usual `Bearer <token>`.
 */
export function bearerTokenOf(request: AuthRequest): string | null {
  const token = presentedBearerTokenOf(request);
  if (token && !WHITESPACE.test(token)) return token;
  return bearerTokenOfAnyShape(request);
}

/**
 * Verifies `Authorization: Bearer` access tokens: header screened and key chosen by AccessTokenService,
 * signature, algorithm, issuer, audience and expiry by jsonwebtoken with the service's options, claim
 * types by the service, revocation from memory. No database work; keys were imported at start-up.
 * A token that passes is remembered in the VerifiedTokenCache, which JwtAuthGuard asks first.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(
    private readonly accessTokens: AccessTokenService,
    private readonly revokedSessions: RevokedSessions,
    private readonly verifiedTokens: VerifiedTokenCache,
  ) {
    const { algorithms, issuer, audience, clockTolerance } = accessTokens.verifyOptions;
    super({
      jwtFromRequest: bearerTokenOf,
      secretOrKeyProvider: (_request: unknown, rawJwt: string, done: (error: unknown, key?: Buffer) => void) => {
        try {
          // jsonwebtoken takes KeyObjects; passport-jwt's typings predate them.
          done(null, accessTokens.verificationKeyFor(rawJwt) as unknown as Buffer);
        } catch (error) {
          done(error);
        }
      },
      algorithms: [...algorithms],
      issuer,
      audience,
      jsonWebTokenOptions: { clockTolerance },
      passReqToCallback: true,
    });
  }

  validate(request: AuthRequest, payload: unknown): AuthPrincipal {
    const principal = this.accessTokens.toPrincipal(payload);
    this.revokedSessions.assertUsable(principal.sessionId);
    this.verifiedTokens.remember(bearerTokenOf(request), principal);
    return principal;
  }
}
