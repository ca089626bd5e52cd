import { Body, Controller, Header, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthService } from './auth.service.js';
import { ApiErrors } from './decorators/api-errors.decorator.js';
import { AuthRoutes } from './decorators/auth-routes.decorator.js';
import { Public } from './decorators/public.decorator.js';
import { RateLimit } from './decorators/rate-limit.decorator.js';
import { RegisterDto } from './dto/register.dto.js';
import { UserDto } from './dto/user.dto.js';
import { AuthErrorCode as Code } from './errors/auth-error-code.js';
import { toUserDto } from './users/user.mapper.js';

/** Self-service sign-up; left out with `routes: { register: false }`. */
@ApiTags('auth')
@AuthRoutes()
@Controller('auth')
export class RegisterController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('register')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Create an account',
    description:
      'The email is compared in Unicode NFC, trimmed and lower-cased (409 `email_taken` when it exists); the password is 8 to 128 ' +
      'characters, not only whitespace. Does not log in: call login next. Rate limited per client address and per email.',
  })
  @ApiCreatedResponse({ type: UserDto, description: 'Created' })
  @ApiErrors(Code.ValidationFailed, Code.EmailTaken, Code.ServiceUnavailable)
  @RateLimit('register')
  async register(@Body() body: RegisterDto): Promise<UserDto> {
    return toUserDto(await this.auth.register(body));
  }
}
