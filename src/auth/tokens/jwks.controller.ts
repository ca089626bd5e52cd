import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../decorators/public.decorator.js';
import { JwksDto } from '../dto/jwks.dto.js';
import { SigningKeys } from './signing-keys.js';

@ApiTags('keys')
@Controller('.well-known')
export class JwksController {
  private readonly body: JwksDto;

  constructor(keys: SigningKeys) {
    this.body = { keys: keys.publicJwks };
  }

  @Public()
  @Get('jwks.json')
  // Resource servers cache it; short enough that a newly added key is seen well within one access-token lifetime.
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'Public keys that verify access tokens (empty for HS256)' })
  @ApiOkResponse({ type: JwksDto })
  jwks(): JwksDto {
    return this.body;
  }
}
