import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import type { Configuration } from '../config/configuration.js';
import { UsersModule } from '../users/users.module.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { BearerOrRefreshTokenGuard } from './guards/bearer-or-refresh-token.guard.js';
import { JwtAuthGuard } from './guards/jwt-auth.guard.js';
import { RateLimitGuard } from './guards/rate-limit.guard.js';
import { RefreshTokenGuard } from './guards/refresh-token.guard.js';
import { RolesGuard } from './guards/roles.guard.js';
import { Argon2PasswordHasher } from './passwords/argon2-password-hasher.js';
import { PasswordHasher } from './passwords/password-hasher.js';
import { RefreshCookie } from './refresh-cookie.js';
import { PostgresSessionStore } from './sessions/postgres-session-store.js';
import { RefreshTokenCodec } from './sessions/refresh-token-codec.js';
import { RevocationFeed } from './sessions/revocation-feed.js';
import { RevokedSessions } from './sessions/revoked-sessions.js';
import { SessionStore } from './sessions/session-store.js';
import { SessionsService } from './sessions/sessions.service.js';
import { SessionsController } from './sessions.controller.js';
import { JwtStrategy } from './strategies/jwt.strategy.js';
import { RefreshTokenStrategy } from './strategies/refresh-token.strategy.js';
import { AccessTokenService } from './tokens/access-token.service.js';
import { JwksController } from './tokens/jwks.controller.js';
import { loadSigningKeys, SigningKeys } from './tokens/signing-keys.js';

const signingKeysProvider = {
  provide: SigningKeys,
  inject: [ConfigService],
  useFactory: (config: ConfigService<Configuration, true>) =>
    loadSigningKeys(config.get('tokens', { infer: true }), config.get('dataDir', { infer: true })),
};

/**
 * Login, rotating refresh-token families, revocation, and the global guard that demands a Bearer
 * access token on every route not marked @Public().
 */
@Module({
  imports: [PassportModule, JwtModule.register({}), UsersModule],
  controllers: [AuthController, SessionsController, JwksController],
  providers: [
    signingKeysProvider,
    AccessTokenService,
    RevokedSessions,
    RevocationFeed,
    RefreshTokenCodec,
    { provide: SessionStore, useClass: PostgresSessionStore },
    SessionsService,
    { provide: PasswordHasher, useClass: Argon2PasswordHasher },
    AuthService,
    RefreshCookie,
    JwtStrategy,
    RefreshTokenStrategy,
    JwtAuthGuard,
    RefreshTokenGuard,
    BearerOrRefreshTokenGuard,
    RolesGuard,
    RateLimitGuard,
    // In this order: limits first (before any hashing), then the token, then roles.
    { provide: APP_GUARD, useExisting: RateLimitGuard },
    { provide: APP_GUARD, useExisting: JwtAuthGuard },
    { provide: APP_GUARD, useExisting: RolesGuard },
  ],
  exports: [JwtAuthGuard, RolesGuard, RateLimitGuard, AccessTokenService, SessionsService, RevokedSessions, PasswordHasher, SigningKeys],
})
export class AuthModule {}
