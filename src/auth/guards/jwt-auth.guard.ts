import { type ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import jsonwebtoken from 'jsonwebtoken';
import { IS_PUBLIC_KEY, JWT_STRATEGY } from '../auth.constants.js';
import type { AuthenticatedRequest } from '../authenticated-request.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import { RevokedSessions } from '../sessions/revoked-sessions.js';
import { presentedBearerTokenOf } from '../strategies/jwt.strategy.js';
import type { AuthPrincipal } from '../tokens/access-token.js';
import { VerifiedTokenCache } from '../tokens/verified-token-cache.js';
import { requiredRoles } from './roles.guard.js';

// Set once a request's token has been verified, so a route guard after the global one does not verify again.
const VERIFIED = Symbol('auth:verified');

/** What a route's decorators ask of its callers. */
interface RouteAuth {
  /** The controller it was read for: one handler may serve several (inherited) controllers. */
  readonly controller: object;
  readonly isPublic: boolean;
  readonly roles: readonly string[] | undefined;
}

/**
 * Demands a valid Bearer access token unless the route is @Public(), then the roles of @Roles().
 * Global by default (the module's `globalGuard` extra). Extend it and override `isPublic` or
 * `handleRequest`; a subclass bound as APP_GUARD replaces the package's global guard.
 *
 * A token verified before (and not expired since) is not verified again: its principal comes from
 * the module's cache of verified tokens, and goes through the same revocation check and the same
 * `handleRequest` as one from the JWT strategy; roles are checked either way.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  // Properties, not constructor parameters: a subclass with a constructor of its own (`super(reflector)`) gets them too.
  @Optional() @Inject(VerifiedTokenCache) private readonly verifiedTokens?: VerifiedTokenCache;
  @Optional() @Inject(RevokedSessions) private readonly revokedSessions?: RevokedSessions;
  // The metadata of each route, read once: the global guard asks on every request of the host's app.
  private readonly routes = new WeakMap<object, RouteAuth>();

  constructor(protected readonly reflector: Reflector) {
    super();
  }

  // Synchronous for public routes and for tokens verified before: no promise, no extra tick.
  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.isPublic(context)) return true;
    const authenticated = this.authenticate(context);
    return authenticated === true ? this.authorize(context) : Promise.resolve(authenticated).then(() => this.authorize(context));
  }

  /**
   * Authenticates whatever the route's metadata says and sets `request.user`: from the cache of
   * verified tokens (synchronously) or through the JWT strategy.
   */
  authenticate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest & { [VERIFIED]?: true }>();
    if (request[VERIFIED]) return true;
    const cached = this.verifiedTokens?.principalFor(presentedBearerTokenOf(request));
    if (cached === undefined) return this.authenticateWithStrategy(context, request);
    request.user = this.fromCache(cached, context);
    request[VERIFIED] = true;
    return true;
  }

  protected isPublic(context: ExecutionContext): boolean {
    return this.routeAuth(context).isPublic;
  }

  /** Maps passport's outcome to one stable code; the exact reason is logged, not sent. */
  override handleRequest<TUser = AuthPrincipal>(error: unknown, user: TUser | false, info: unknown, _context?: ExecutionContext, _status?: unknown): TUser {
    if (error) throw error;
    if (user) return user;
    if (info instanceof AuthError) throw info;
    if (info instanceof jsonwebtoken.TokenExpiredError) throw new AuthError(AuthErrorCode.TokenExpired, { bearer: true });
    throw new AuthError(AuthErrorCode.TokenInvalid, { reason: info instanceof Error ? info.message : 'no token', bearer: true });
  }

  private async authenticateWithStrategy(context: ExecutionContext, request: { [VERIFIED]?: true }): Promise<boolean> {
    await super.canActivate(context);
    request[VERIFIED] = true;
    return true;
  }

  /** The rest of what the strategy's `validate` does after the signature, and passport's hand-over to `handleRequest`. */
  private fromCache(principal: AuthPrincipal, context: ExecutionContext): AuthPrincipal {
    try {
      this.revokedSessions!.assertUsable(principal.sessionId);
    } catch (error) {
      return this.handleRequest<AuthPrincipal>(error, false, undefined, context);
    }
    return this.handleRequest(null, principal, undefined, context);
  }

  private authorize(context: ExecutionContext): boolean {
    const { roles } = this.routeAuth(context);
    if (!roles) return true;
    const { user } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    for (const role of user.roles) if (roles.includes(role)) return true;
    throw new AuthError(AuthErrorCode.Forbidden, { reason: `needs one of ${roles.join(', ')}` });
  }

  private routeAuth(context: ExecutionContext): RouteAuth {
    const handler = context.getHandler();
    const controller = context.getClass();
    const known = this.routes.get(handler);
    if (known?.controller === controller) return known;
    const route: RouteAuth = {
      controller,
      isPublic: this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [handler, controller]) ?? false,
      roles: requiredRoles(this.reflector, context),
    };
    this.routes.set(handler, route);
    return route;
  }
}
