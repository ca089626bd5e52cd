import { Body, Controller, Get, Header, HttpCode, HttpStatus, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { BEARER_SECURITY, REFRESH_COOKIE_SECURITY } from './auth.constants.js';
import { AuthService } from './auth.service.js';
import type { AuthRequest } from './authenticated-request.js';
import { clientInfoOf } from './client-info.js';
import { ApiErrors } from './decorators/api-errors.decorator.js';
import { CurrentPrincipal } from './decorators/auth-principal.decorator.js';
import { AuthRoutes } from './decorators/auth-routes.decorator.js';
import { Authenticated } from './decorators/authenticated.decorator.js';
import { Public } from './decorators/public.decorator.js';
import { RateLimit } from './decorators/rate-limit.decorator.js';
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

const REFRESH_COOKIE_DOC = 'The refresh token may come from the refresh cookie instead of the body; then X-Requested-With is required and Origin, when sent, must be allowed.';

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
  @ApiOperation({ summary: 'Log in: a new session with an access token and a refresh token (also set as a cookie)' })
  @ApiOkResponse({ type: TokenPairDto, headers: { 'Set-Cookie': { description: 'The refresh cookie', schema: { type: 'string' } } } })
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
  @ApiOperation({ summary: 'Rotate the refresh token: a new pair; presenting a rotated token revokes the session', description: REFRESH_COOKIE_DOC })
  @ApiBody({ type: RefreshTokenDto, required: false })
  @ApiSecurity(REFRESH_COOKIE_SECURITY)
  @ApiOkResponse({ type: TokenPairDto })
  @ApiErrors(
    Code.ValidationFailed,
    Code.RefreshTokenConflict,
    Code.RefreshTokenInvalid,
    Code.RefreshTokenExpired,
    Code.RefreshTokenReused,
    Code.SessionRevoked,
    Code.CsrfRejected,
    Code.AccountDisabled,
    Code.ServiceUnavailable,
  )
  @RateLimit('refresh')
  async refresh(
    @CurrentPrincipal() credential: RefreshTokenCredential,
    @Req() request: AuthRequest,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<TokenPairDto> {
    return this.respondWithTokens(response, await this.sessions.refresh(credential.refreshToken, clientInfoOf(request)));
  }

  @Public()
  @UseGuards(BearerOrRefreshTokenGuard)
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'End the current session (by Bearer token, or by refresh token) and clear the cookie', description: REFRESH_COOKIE_DOC })
  @ApiBody({ type: RefreshTokenDto, required: false })
  @ApiSecurity(BEARER_SECURITY)
  @ApiSecurity(REFRESH_COOKIE_SECURITY)
  @ApiNoContentResponse({ description: 'Logged out' })
  @ApiErrors(Code.ValidationFailed, Code.TokenInvalid, Code.TokenExpired, Code.SessionRevoked, Code.RefreshTokenInvalid, Code.CsrfRejected, Code.ServiceUnavailable)
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
  @ApiOperation({ summary: 'End every session of the caller' })
  @ApiBody({ type: EmptyBodyDto, required: false, description: 'None; any property is refused' })
  @ApiNoContentResponse({ description: 'Every session ended' })
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
  @ApiOperation({ summary: 'Change the password; every other session is ended' })
  @ApiNoContentResponse({ description: 'Password changed' })
  @ApiErrors(Code.ValidationFailed, Code.InvalidCredentials, Code.ServiceUnavailable)
  async changePassword(@CurrentPrincipal() principal: AuthPrincipal, @Body() body: ChangePasswordDto, @Req() request: AuthRequest): Promise<void> {
    await this.auth.changePassword(principal.userId, principal.sessionId, body.currentPassword, body.newPassword, clientInfoOf(request));
  }

  @Authenticated()
  @Get('claims')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "The verified claims of the caller's access token (no database work)" })
  @ApiOkResponse({ type: ClaimsDto })
  claims(@CurrentPrincipal() principal: AuthPrincipal): ClaimsDto {
    return { sub: principal.userId, sid: principal.sessionId, roles: principal.roles, iat: principal.issuedAt, exp: principal.expiresAt };
  }

  private respondWithTokens(response: unknown, tokens: IssuedTokens): TokenPairDto {
    this.cookie.set(response, tokens.refreshToken, tokens.refreshTokenExpiresIn);
    return { ...tokens, tokenType: 'Bearer' };
  }
}
