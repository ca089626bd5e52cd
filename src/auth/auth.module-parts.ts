import { type DynamicModule, Logger } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AdminController } from './admin/admin.controller.js';
import { AdminService, missingAdminStoreMethods } from './admin/admin.service.js';
import { AUTH_MODULE_OPTIONS } from './auth.constants.js';
import { AuthController } from './auth.controller.js';
import type { AuthModuleExtras } from './auth.options.js';
import { AuthService } from './auth.service.js';
import { AuthErrorFilter, AuthExceptionFilter } from './errors/auth-exception.filter.js';
import { AuditWriter } from './events/audit-writer.js';
import { AuthEvents } from './events/auth-events.js';
import { AuthOutcomes } from './events/auth-outcomes.js';
import { BearerOrRefreshTokenGuard } from './guards/bearer-or-refresh-token.guard.js';
import { GlobalAuthGuard } from './guards/global-auth.guard.js';
import { JwtAuthGuard } from './guards/jwt-auth.guard.js';
import { RateLimitGuard } from './guards/rate-limit.guard.js';
import { MemoryRateLimitStorage, RateLimitStorage } from './guards/rate-limit.storage.js';
import { RefreshTokenGuard } from './guards/refresh-token.guard.js';
import { RolesGuard } from './guards/roles.guard.js';
import { CleanupService } from './maintenance/cleanup.service.js';
import { AuthSettings, resolveAuthSettings } from './options/auth-settings.js';
import { Argon2PasswordHasher } from './passwords/argon2-password-hasher.js';
import { PasswordHasher } from './passwords/password-hasher.js';
import { RefreshCookie } from './refresh-cookie.js';
import { RegisterController } from './register.controller.js';
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
import { SigningKeys } from './tokens/signing-keys.js';
import { VerifiedTokenCache } from './tokens/verified-token-cache.js';
import { PostgresUserStore } from './users/postgres-user-store.js';
import { UserStore } from './users/user-store.js';
import { UsersController } from './users/users.controller.js';
import { AuthValidationPipe } from './validation.pipe.js';

/**
 * What the module is made of, shaped by the extras. Global, so a host's `@UseGuards(JwtAuthGuard)` and
 * `@Roles()` resolve anywhere; the options arrive through AUTH_MODULE_OPTIONS and are checked once.
 */
export function withAuthParts(definition: DynamicModule, extras: AuthModuleExtras): DynamicModule {
  const routes = { register: true, sessions: true, users: true, admin: adminRoutesByDefault(extras), ...extras.routes };
  return {
    ...definition,
    global: true,
    imports: [...(definition.imports ?? []), PassportModule, DiscoveryModule],
    controllers: [
      AuthController,
      JwksController,
      ...(routes.register ? [RegisterController] : []),
      ...(routes.sessions ? [SessionsController] : []),
      ...(routes.users ? [UsersController] : []),
      ...(routes.admin ? [AdminController] : []),
    ],
    providers: [
      ...(definition.providers ?? []),
      { provide: AuthSettings, inject: [AUTH_MODULE_OPTIONS], useFactory: resolveAuthSettings },
      { provide: SigningKeys, inject: [AuthSettings], useFactory: (settings: AuthSettings) => settings.signingKeys },
      { provide: UserStore, useClass: extras.userStore ?? PostgresUserStore },
      { provide: PasswordHasher, useClass: extras.passwordHasher ?? Argon2PasswordHasher },
      { provide: RateLimitStorage, useClass: extras.rateLimitStorage ?? MemoryRateLimitStorage },
      { provide: SessionStore, useClass: PostgresSessionStore },
      AccessTokenService,
      {
        provide: VerifiedTokenCache,
        inject: [AuthSettings],
        useFactory: (settings: AuthSettings) => new VerifiedTokenCache(settings.accessTokenCacheSize, settings.tokens.clockSkew),
      },
      RevokedSessions,
      RevocationFeed,
      RefreshTokenCodec,
      SessionsService,
      AuthService,
      RefreshCookie,
      JwtStrategy,
      RefreshTokenStrategy,
      JwtAuthGuard,
      RefreshTokenGuard,
      BearerOrRefreshTokenGuard,
      RolesGuard,
      RateLimitGuard,
      AuthExceptionFilter,
      AuthValidationPipe,
      AuditWriter,
      AuthEvents,
      AuthOutcomes,
      CleanupService,
      // Only with the routes: it demands the UserStore methods they need.
      ...(routes.admin ? [AdminService] : []),
      // The package's own errors keep its shape on a host's routes too (the global guard's 401s).
      { provide: APP_FILTER, useClass: AuthErrorFilter },
      ...(extras.globalGuard === false ? [] : [GlobalAuthGuard, { provide: APP_GUARD, useExisting: GlobalAuthGuard }]),
    ],
    // What a host's own injectables may need: the guards (and what they inject: a host's JwtAuthGuard
    // subclass asks for the verified-token cache and the revocation memory), and the ports.
    exports: [
      JwtAuthGuard,
      RolesGuard,
      RateLimitGuard,
      AuthSettings,
      VerifiedTokenCache,
      RevokedSessions,
      RateLimitStorage,
      UserStore,
      PasswordHasher,
      AuthEvents,
      AuthOutcomes,
      ...(routes.admin ? [AdminService] : []),
    ],
  };
}

/**
 * The admin routes are on when the UserStore can serve them (the package's own can). A store of a team's
 * without `list`, `setRoles` or `setDisabled` leaves them off, said once at start; asked for with
 * `routes: { admin: true }`, such a store fails the start-up instead (AdminService), naming what is missing.
 */
function adminRoutesByDefault(extras: AuthModuleExtras): boolean {
  const store = extras.userStore ?? PostgresUserStore;
  const missing = missingAdminStoreMethods(store.prototype as object);
  if (missing.length && extras.routes?.admin === undefined) {
    new Logger('AuthModule').log(`admin routes not mounted: ${store.name} has no ${missing.join(', ')} (routes: { admin: true } demands them)`);
  }
  return missing.length === 0;
}
