import { Controller, Get, HttpException, UseGuards } from '@nestjs/common';
import { type AuthPrincipal, CurrentPrincipal, JwtAuthGuard, Public, Roles } from 'auth-service';

/** The principal with the claims this app adds through `extraClaims`. */
type TeamPrincipal = AuthPrincipal & { tenantId: string };

/** The team's own routes, protected by the auth package. */
@Controller('team')
export class TeamController {
  @Public()
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }

  @Roles('admin')
  @Get('admin')
  admin() {
    return { ok: true };
  }

  @Get('me')
  me(@CurrentPrincipal() principal: TeamPrincipal) {
    return { userId: principal.userId, tenantId: principal.tenantId, roles: principal.roles };
  }

  /** The team's own error: its body must reach the client as thrown, not in the package's error shape. */
  @Public()
  @Get('teapot')
  teapot(): never {
    throw new HttpException({ teapot: true, reason: 'short and stout' }, 418);
  }

  /** No decorator: needs a token under the global guard, open without it. */
  @Get('open')
  open() {
    return { open: true };
  }

  /** Always needs a token, global guard or not. */
  @UseGuards(JwtAuthGuard)
  @Get('guarded')
  guarded(@CurrentPrincipal() principal: TeamPrincipal) {
    return { guarded: true, userId: principal.userId };
  }
}
