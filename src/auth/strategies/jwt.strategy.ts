import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { JWT_STRATEGY } from '../auth.constants.js';
import { RevokedSessions } from '../sessions/revoked-sessions.js';
import type { AuthPrincipal } from '../tokens/access-token.js';
import { AccessTokenService } from '../tokens/access-token.service.js';

/**
 * Verifies `Authorization: Bearer` access tokens: header screened and key chosen by AccessTokenService,
 * signature, algorithm, issuer, audience and expiry by jsonwebtoken with the service's options, claim
 * types by the service, revocation from memory. No database work; keys were imported at start-up.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(
    private readonly accessTokens: AccessTokenService,
    private readonly revokedSessions: RevokedSessions,
  ) {
    const { algorithms, issuer, audience, clockTolerance } = accessTokens.verifyOptions;
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
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
    });
  }

  validate(payload: unknown): AuthPrincipal {
    const principal = this.accessTokens.toPrincipal(payload);
    this.revokedSessions.assertUsable(principal.sessionId);
    return principal;
  }
}
