import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../auth/decorators/api-errors.decorator.js';
import { CurrentPrincipal } from '../auth/decorators/auth-principal.decorator.js';
import { Authenticated } from '../auth/decorators/authenticated.decorator.js';
import { AuthErrorCode } from '../auth/errors/auth-error-code.js';
import { AuthError } from '../auth/errors/auth-error.js';
import type { AuthPrincipal } from '../auth/tokens/access-token.js';
import { UserDto } from './user.dto.js';
import { toUserDto } from './user.mapper.js';
import { UserStore } from './user-store.js';

@ApiTags('users')
@Authenticated()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UserStore) {}

  @Get('me')
  @ApiOperation({ summary: 'The caller (the example protected route)' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors(AuthErrorCode.ServiceUnavailable)
  async me(@CurrentPrincipal() principal: AuthPrincipal): Promise<UserDto> {
    const user = await this.users.findById(principal.userId);
    // The account was deleted after the token was issued.
    if (!user) throw new AuthError(AuthErrorCode.TokenInvalid, { reason: 'user gone', bearer: true });
    return toUserDto(user);
  }
}
