import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { Configuration } from '../../config/configuration.js';
import { JWT_STRATEGY } from '../auth.constants.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import { RevokedSessions } from '../sessions/revoked-sessions.js';
import type { AccessTokenClaims, AuthPrincipal } from '../tokens/access-token.js';
import { AccessTokenService } from '../tokens/access-token.service.js';

/**
 * Verifies `Authorization: Bearer` access tokens: header screened and key chosen by AccessTokenService,
 * signature, algorithm, issuer, audience and expiry by jsonwebtoken, revocation from memory.
 * No database work.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(
    private readonly accessTokens: AccessTokenService,
    private readonly revokedSessions: RevokedSessions,
    config: ConfigService<Configuration, true>,
  ) {
    const tokens = config.get('tokens', { infer: true });
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
      algorithms: [tokens.algorithm],
      issuer: tokens.issuer,
      audience: tokens.audience,
      jsonWebTokenOptions: { clockTolerance: tokens.clockSkew },
    });
  }

  validate(payload: Partial<Record<keyof AccessTokenClaims, unknown>>): AuthPrincipal {
    const principal = this.accessTokens.toPrincipal(payload);
    if (this.revokedSessions.has(principal.sessionId)) {
      throw new AuthError(AuthErrorCode.SessionRevoked, { reason: 'session revoked', bearer: true });
    }
    return principal;
  }
}
