import { type CanActivate, type ExecutionContext, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD, DiscoveryService } from '@nestjs/core';
import { JwtAuthGuard } from './jwt-auth.guard.js';

/**
 * The package's APP_GUARD: runs JwtAuthGuard on every route, unless the host bound its own subclass
 * of JwtAuthGuard as APP_GUARD. Then that one alone decides: two global auth guards would make a
 * route the host opened (say, by overriding `isPublic`) still demand a token.
 */
@Injectable()
export class GlobalAuthGuard implements CanActivate, OnApplicationBootstrap {
  private replaced = false;

  constructor(
    private readonly jwtAuthGuard: JwtAuthGuard,
    private readonly discovery: DiscoveryService,
  ) {}

  onApplicationBootstrap(): void {
    // Nest registers each APP_GUARD under a token of its own, `APP_GUARD (UUID: …)`.
    this.replaced = this.discovery
      .getProviders()
      .some((wrapper) => String(wrapper.token).startsWith(APP_GUARD) && wrapper.instance instanceof JwtAuthGuard);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    return this.replaced || this.jwtAuthGuard.canActivate(context);
  }
}
