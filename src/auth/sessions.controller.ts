import { Body, Controller, Delete, Get, Header, HttpCode, HttpStatus, Param, Req } from '@nestjs/common';
import { ApiBody, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { AuthRequest } from './authenticated-request.js';
import { clientInfoOf } from './client-info.js';
import { ApiErrors } from './decorators/api-errors.decorator.js';
import { CurrentPrincipal } from './decorators/auth-principal.decorator.js';
import { AuthRoutes } from './decorators/auth-routes.decorator.js';
import { Authenticated } from './decorators/authenticated.decorator.js';
import { EmptyBodyDto } from './dto/empty-body.dto.js';
import { SessionDto } from './dto/session.dto.js';
import { AuthErrorCode as Code } from './errors/auth-error-code.js';
import { toSessionInfoDto } from './sessions/session.mapper.js';
import { SessionsService } from './sessions/sessions.service.js';
import type { AuthPrincipal } from './tokens/access-token.js';

@ApiTags('sessions')
@AuthRoutes()
@Authenticated()
@Controller('auth/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "The caller's live sessions (no token material)",
    description: 'Every session of the user that is neither revoked nor expired; `current` marks the one of this access token.',
  })
  @ApiOkResponse({ type: [SessionDto], description: 'The live sessions' })
  @ApiErrors(Code.ServiceUnavailable)
  async listSessions(@CurrentPrincipal() principal: AuthPrincipal): Promise<SessionDto[]> {
    const sessions = await this.sessions.listLive(principal.userId);
    return sessions.map((session) => ({ ...toSessionInfoDto(session), current: session.id === principal.sessionId }));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: "End one of the caller's sessions; its tokens stop working at once",
    description: "Revokes the session (its refresh and access tokens) on every instance. 404 `session_not_found` when it is not one of the caller's.",
  })
  @ApiParam({ name: 'id', description: 'A session id from GET /auth/sessions', schema: { type: 'string', format: 'uuid', example: '5f0c2a3e-8d1b-4c7a-9e6f-1a2b3c4d5e6f' } })
  @ApiBody({ type: EmptyBodyDto, required: false, description: 'None; any property is refused' })
  @ApiNoContentResponse({ description: 'Session ended' })
  @ApiErrors(Code.ValidationFailed, Code.SessionNotFound, Code.ServiceUnavailable)
  async endSession(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('id') id: string,
    @Body() _body: EmptyBodyDto,
    @Req() request: AuthRequest,
  ): Promise<void> {
    await this.sessions.endOwn(principal.userId, id, clientInfoOf(request));
  }
}
