import { Body, Controller, Delete, Get, Header, HttpCode, HttpStatus, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBody, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ADMIN_ROLE } from '../auth.constants.js';
import type { AuthRequest } from '../authenticated-request.js';
import { clientInfoOf } from '../client-info.js';
import { ApiErrors } from '../decorators/api-errors.decorator.js';
import { CurrentPrincipal } from '../decorators/auth-principal.decorator.js';
import { AuthRoutes } from '../decorators/auth-routes.decorator.js';
import { Roles } from '../decorators/roles.decorator.js';
import { EmptyBodyDto } from '../dto/empty-body.dto.js';
import { SessionInfoDto } from '../dto/session.dto.js';
import { AuthErrorCode as Code } from '../errors/auth-error-code.js';
import { toSessionInfoDto } from '../sessions/session.mapper.js';
import type { AuthPrincipal } from '../tokens/access-token.js';
import { toAdminUserDto } from '../users/user.mapper.js';
import { AdminUserDto, UserPageDto } from './admin-user.dto.js';
import { type AdminActor, AdminService } from './admin.service.js';
import { ListUsersQueryDto, USERS_PAGE_DEFAULT } from './list-users-query.dto.js';
import { SetRolesDto } from './set-roles.dto.js';

const USER_ID = ApiParam({
  name: 'id',
  description: 'The user id (opaque; a uuid for the built-in users table)',
  schema: { type: 'string', example: '0b7e6c1a-3f2d-4e5b-8a9c-7d6e5f4a3b2c' },
});
const NO_BODY = ApiBody({ type: EmptyBodyDto, required: false, description: 'None; any property is refused' });

/** Managing other users, for callers whose access token carries the `admin` role; left out with `routes: { admin: false }`. */
@ApiTags('admin')
@AuthRoutes()
@Roles(ADMIN_ROLE)
@Controller('admin')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get('users')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'List users in email order, a page at a time', description: 'Pass `nextCursor` as `cursor` for the next page.' })
  @ApiOkResponse({ type: UserPageDto })
  @ApiErrors(Code.ValidationFailed, Code.ServiceUnavailable)
  async listUsers(@Query() query: ListUsersQueryDto): Promise<UserPageDto> {
    const page = await this.admin.list({ emailPrefix: query.email, limit: query.limit ?? USERS_PAGE_DEFAULT, cursor: query.cursor });
    return { items: page.items.map(toAdminUserDto), nextCursor: page.nextCursor };
  }

  @Get('users/:id')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'One user', description: 'The user with its roles and, when disabled, `disabledAt`.' })
  @USER_ID
  @ApiOkResponse({ type: AdminUserDto })
  @ApiErrors(Code.UserNotFound, Code.ServiceUnavailable)
  async getUser(@Param('id') id: string): Promise<AdminUserDto> {
    return toAdminUserDto(await this.admin.get(id));
  }

  @Put('users/:id/roles')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "Replace a user's roles", description: 'They take effect at that user’s next refresh; tokens already issued keep their roles until then.' })
  @USER_ID
  @ApiOkResponse({ type: AdminUserDto })
  @ApiErrors(Code.ValidationFailed, Code.UserNotFound, Code.ServiceUnavailable)
  async setUserRoles(@Param('id') id: string, @Body() body: SetRolesDto, @CurrentPrincipal() admin: AuthPrincipal, @Req() request: AuthRequest): Promise<AdminUserDto> {
    return toAdminUserDto(await this.admin.setRoles(id, body.roles, actorOf(admin, request)));
  }

  @Post('users/:id/disable')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Disable an account',
    description: 'Every session of the user is revoked at once (its access tokens stop working, as at logout); login and refresh then answer 403 account_disabled.',
  })
  @USER_ID
  @NO_BODY
  @ApiNoContentResponse({ description: 'Disabled (also when it already was)' })
  @ApiErrors(Code.ValidationFailed, Code.UserNotFound, Code.ServiceUnavailable)
  async disableUser(@Param('id') id: string, @Body() _body: EmptyBodyDto, @CurrentPrincipal() admin: AuthPrincipal, @Req() request: AuthRequest): Promise<void> {
    await this.admin.disable(id, actorOf(admin, request));
  }

  @Post('users/:id/enable')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Enable a disabled account again', description: 'The user logs in anew; sessions revoked by disabling stay revoked.' })
  @USER_ID
  @NO_BODY
  @ApiNoContentResponse({ description: 'Enabled (also when it already was)' })
  @ApiErrors(Code.ValidationFailed, Code.UserNotFound, Code.ServiceUnavailable)
  async enableUser(@Param('id') id: string, @Body() _body: EmptyBodyDto, @CurrentPrincipal() admin: AuthPrincipal, @Req() request: AuthRequest): Promise<void> {
    await this.admin.enable(id, actorOf(admin, request));
  }

  @Get('users/:id/sessions')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "A user's live sessions (no token material)", description: 'As GET /auth/sessions answers its user, without `current`.' })
  @USER_ID
  @ApiOkResponse({ type: [SessionInfoDto] })
  @ApiErrors(Code.UserNotFound, Code.ServiceUnavailable)
  async listUserSessions(@Param('id') id: string): Promise<SessionInfoDto[]> {
    return (await this.admin.listSessions(id)).map(toSessionInfoDto);
  }

  @Delete('users/:id/sessions')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'End every session of a user; their tokens stop working at once',
    description: 'Revokes every live session of the user on every instance; the account stays enabled.',
  })
  @USER_ID
  @NO_BODY
  @ApiNoContentResponse({ description: 'Every session ended' })
  @ApiErrors(Code.ValidationFailed, Code.UserNotFound, Code.ServiceUnavailable)
  async endUserSessions(@Param('id') id: string, @Body() _body: EmptyBodyDto, @CurrentPrincipal() admin: AuthPrincipal, @Req() request: AuthRequest): Promise<void> {
    await this.admin.endSessions(id, actorOf(admin, request));
  }

  @Delete('sessions/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: "End anyone's session; its tokens stop working at once",
    description: 'Revokes the session (its refresh and access tokens) on every instance. 404 `session_not_found` when no live session has that id.',
  })
  @ApiParam({ name: 'id', description: 'The session id', schema: { type: 'string', format: 'uuid', example: '5f0c2a3e-8d1b-4c7a-9e6f-1a2b3c4d5e6f' } })
  @NO_BODY
  @ApiNoContentResponse({ description: 'Session ended' })
  @ApiErrors(Code.ValidationFailed, Code.SessionNotFound, Code.ServiceUnavailable)
  async endAnySession(@Param('id') id: string, @Body() _body: EmptyBodyDto, @CurrentPrincipal() admin: AuthPrincipal, @Req() request: AuthRequest): Promise<void> {
    await this.admin.endSession(id, actorOf(admin, request));
  }
}

function actorOf(admin: AuthPrincipal, request: AuthRequest): AdminActor {
  return { userId: admin.userId, client: clientInfoOf(request) };
}
