import { Body, Controller, Get, Header, HttpCode, HttpStatus, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BEARER_SECURITY } from './auth.constants.js';
import { AuthService } from './auth.service.js';
import type { AuthenticatedRequest, AuthRequest } from './authenticated-request.js';
import { clientInfoOf } from './client-info.js';
import { ApiErrors } from './decorators/api-errors.decorator.js';
import { CurrentPrincipal } from './decorators/auth-principal.decorator.js';
import { AuthRoutes } from './decorators/auth-routes.decorator.js';
import { Authenticated } from './decorators/authenticated.decorator.js';
import { Public } from './decorators/public.decorator.js';
import { RateLimit } from './decorators/rate-limit.decorator.js';
import { AcceptsRefreshCookie, refreshCookieHeader } from './decorators/refresh-cookie.decorator.js';
import { ChangePasswordDto } from './dto/change-password.dto.js';
import { ClaimsDto } from './dto/claims.dto.js';
import { EmptyBodyDto } from './dto/empty-body.dto.js';
import { LoginDto } from './dto/login.dto.js';
import { RefreshTokenDto } from './dto/refresh-token.dto.js';
import { TokenPairDto } from './dto/token-pair.dto.js';
import { AuthErrorCode as Code } from './errors/auth-error-code.js';
import { BearerOrRefreshTokenGuard } from './guards/bearer-or-refresh-token.guard.js';
import { RefreshTokenGuard } from './guards/refresh-token.guard.js';
import { RefreshCookie } from './refresh-cookie.js';
import type { IssuedTokens } from './sessions/sessions.service.js';
import { SessionsService } from './sessions/sessions.service.js';
import type { RefreshTokenCredential } from './strategies/refresh-token.strategy.js';
import type { AuthPrincipal } from './tokens/access-token.js';

const REFRESH_COOKIE_DOC =
  'The refresh token comes from the body or from the refresh cookie (a browser sends it by itself). A cookie-only request must ' +
  'carry `X-Requested-With` (any value), and its `Origin`, when sent, must be allowed (CORS_ORIGINS); otherwise 403 `csrf_rejected`. ' +
  'A body token that differs from the cookie one is 400 `refresh_token_conflict`.';

@ApiTags('auth')
@AuthRoutes()
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly cookie: RefreshCookie,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Log in: a new session with an access token and a refresh token (also set as a cookie)',
    description:
      'Unknown email and wrong password answer alike (401 `invalid_credentials`), in alike time. Rate limited per client ' +
      'address and per normalised email (429 `rate_limited` with Retry-After). A user past SESSIONS_PER_USER_MAX loses the ' +
      'least recently used session.',
  })
  @ApiOkResponse({ type: TokenPairDto, description: 'Logged in', headers: refreshCookieHeader('sets') })
  @ApiErrors(Code.ValidationFailed, Code.InvalidCredentials, Code.AccountDisabled, Code.ServiceUnavailable)
  @RateLimit('login')
  async login(
    @Body() body: LoginDto,
    @Req() request: AuthRequest,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<TokenPairDto> {
    return this.respondWithTokens(response, await this.auth.login(body.email, body.password, clientInfoOf(request)));
  }

  @Public()
  @UseGuards(RefreshTokenGuard)
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Rotate the refresh token: a new pair; presenting a rotated token revokes the session',
    description:
      'Marks the token rotated and answers a new token of the same session with a fresh access token. The same token again ' +
      'within REFRESH_REUSE_GRACE answers the session\'s current token; later it is reuse: the whole session is revoked ' +
      '(401 `refresh_token_reused`). ' +
      REFRESH_COOKIE_DOC,
  })
  @ApiBody({ type: RefreshTokenDto, required: false })
  @AcceptsRefreshCookie()
  @ApiOkResponse({ type: TokenPairDto, description: 'Rotated', headers: refreshCookieHeader('sets') })
  @ApiErrors(
    Code.ValidationFailed,
    Code.RefreshTokenConflict,
    Code.RefreshTokenInvalid,
    Code.RefreshTokenExpired,
    Code.RefreshTokenReused,
    Code.SessionRevoked,
    Code.AccountDisabled,
    Code.ServiceUnavailable,
  )
  @RateLimit('refresh')
  async refresh(
    // The credential from the request, not @CurrentPrincipal(): see claims().
    @Req() request: AuthRequest & { user: RefreshTokenCredential },
    @Res({ passthrough: true }) response: unknown,
  ): Promise<TokenPairDto> {
    return this.respondWithTokens(response, await this.sessions.refresh(request.user.refreshToken, clientInfoOf(request)));
  }

  @Public()
  @UseGuards(BearerOrRefreshTokenGuard)
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'End the current session (by Bearer token, or by refresh token) and clear the cookie',
    description:
      'With a Bearer token, ends that token\'s session; else the session of the refresh token. Its refresh tokens and access ' +
      'tokens stop working at once, on every instance. ' +
      REFRESH_COOKIE_DOC,
  })
  @ApiBody({ type: RefreshTokenDto, required: false })
  @ApiBearerAuth(BEARER_SECURITY)
  @AcceptsRefreshCookie()
  @ApiNoContentResponse({ description: 'Logged out', headers: refreshCookieHeader('expires') })
  @ApiErrors(Code.ValidationFailed, Code.TokenInvalid, Code.TokenExpired, Code.SessionRevoked, Code.RefreshTokenInvalid, Code.ServiceUnavailable)
  async logout(
    @Body() _body: RefreshTokenDto,
    @CurrentPrincipal() caller: AuthPrincipal | RefreshTokenCredential,
    @Req() request: AuthRequest,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    const sessionId = 'refreshToken' in caller ? this.sessions.sessionIdOf(caller.refreshToken as string) : caller.sessionId;
    await this.sessions.end(sessionId, 'logout', clientInfoOf(request));
    this.cookie.clear(response);
  }

  @Authenticated()
  @Post('logout-all')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'End every session of the caller',
    description: 'Revokes every session of the user, this one included: all their refresh and access tokens stop working at once.',
  })
  @ApiBody({ type: EmptyBodyDto, required: false, description: 'None; any property is refused' })
  @ApiNoContentResponse({ description: 'Every session ended', headers: refreshCookieHeader('expires') })
  @ApiErrors(Code.ValidationFailed, Code.ServiceUnavailable)
  async logoutAll(
    @Body() _body: EmptyBodyDto,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Req() request: AuthRequest,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    await this.sessions.endAll(principal.userId, 'logout_all', undefined, clientInfoOf(request));
    this.cookie.clear(response);
  }

  @RateLimit('password')
  @Authenticated()
  @Post('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Change the password; every other session is ended',
    description:
      'Needs the current password (401 `invalid_credentials` when wrong). The caller\'s session stays; every other one is revoked ' +
      'in the same commit as the new hash. Rate limited per user.',
  })
  @ApiNoContentResponse({ description: 'Password changed' })
  @ApiErrors(Code.ValidationFailed, Code.InvalidCredentials, Code.ServiceUnavailable)
  async changePassword(@CurrentPrincipal() principal: AuthPrincipal, @Body() body: ChangePasswordDto, @Req() request: AuthRequest): Promise<void> {
    await this.auth.changePassword(principal.userId, principal.sessionId, body.currentPassword, body.newPassword, clientInfoOf(request));
  }

  @Authenticated()
  @Get('claims')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "The verified claims of the caller's access token (no database work)",
    description: 'What the guard verified: user id, session id, roles and the token\'s times. Answers without touching the database.',
  })
  @ApiOkResponse({ type: ClaimsDto, description: 'The claims' })
  // The principal from the request, not @CurrentPrincipal(): a custom parameter goes through the
  // class's pipe, a promise per request (about a tenth of this route's CPU), and this route is what
  // authentication costs at the least.
  claims(@Req() { user: principal }: AuthenticatedRequest): ClaimsDto {
    return { sub: principal.userId, sid: principal.sessionId, roles: principal.roles, iat: principal.issuedAt, exp: principal.expiresAt };
  }

  private respondWithTokens(response: unknown, tokens: IssuedTokens): TokenPairDto {
    this.cookie.set(response, tokens.refreshToken, tokens.refreshTokenExpiresIn);
    return { ...tokens, tokenType: 'Bearer' };
  }
}
