import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { AuthRequest } from '../authenticated-request.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { RefreshTokenGuard } from './refresh-token.guard.js';

/** For logout: a Bearer access token when the request has an Authorization header, else a refresh token. */
@Injectable()
export class BearerOrRefreshTokenGuard implements CanActivate {
  constructor(
    private readonly jwtGuard: JwtAuthGuard,
    private readonly refreshTokenGuard: RefreshTokenGuard,
  ) {}

  canActivate(context: ExecutionContext) {
    const request = context.switchToHttp().getRequest<AuthRequest>();
    return request.headers.authorization !== undefined
      ? this.jwtGuard.authenticate(context)
      : this.refreshTokenGuard.canActivate(context);
  }
}
