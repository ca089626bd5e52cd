import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../decorators/api-errors.decorator.js';
import { CurrentPrincipal } from '../decorators/auth-principal.decorator.js';
import { AuthRoutes } from '../decorators/auth-routes.decorator.js';
import { Authenticated } from '../decorators/authenticated.decorator.js';
import { UserDto } from '../dto/user.dto.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import type { AuthPrincipal } from '../tokens/access-token.js';
import { toUserDto } from './user.mapper.js';
import { UserStore } from './user-store.js';

@ApiTags('users')
@AuthRoutes()
@Authenticated()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UserStore) {}

  @Get('me')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'The caller (the example protected route)',
    description: 'The user the access token names. 401 `token_invalid` when the account no longer exists.',
  })
  @ApiOkResponse({ type: UserDto, description: 'The caller' })
  @ApiErrors(AuthErrorCode.ServiceUnavailable)
  async me(@CurrentPrincipal() principal: AuthPrincipal): Promise<UserDto> {
    const user = await this.users.findById(principal.userId);
    // The account was deleted after the token was issued.
    if (!user) throw new AuthError(AuthErrorCode.TokenInvalid, { reason: 'user gone', bearer: true });
    return toUserDto(user);
  }
}
