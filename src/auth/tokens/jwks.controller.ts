import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthRoutes } from '../decorators/auth-routes.decorator.js';
import { Public } from '../decorators/public.decorator.js';
import { JwksDto } from '../dto/jwks.dto.js';
import { SigningKeys } from './signing-keys.js';

// Resource servers cache it; short enough that a newly published key is seen well within one
// access-token lifetime (docs/tokens.md, "Rotating keys").
const JWKS_CACHE_CONTROL = 'public, max-age=300';

@ApiTags('keys')
@AuthRoutes()
@Controller('.well-known')
export class JwksController {
  private readonly body: JwksDto;

  constructor(keys: SigningKeys) {
    this.body = { keys: keys.publicJwks };
  }

  @Public()
  @Get('jwks.json')
  @Header('Cache-Control', JWKS_CACHE_CONTROL)
  @ApiOperation({
    summary: 'Public keys that verify access tokens (empty for HS256)',
    description: 'The public halves of JWT_PRIVATE_KEYS, in order (the first signs), each with kid, alg and use "sig".',
  })
  @ApiOkResponse({
    type: JwksDto,
    description: 'The public keys',
    headers: { 'Cache-Control': { description: 'How long verifiers may cache the set', schema: { type: 'string', example: JWKS_CACHE_CONTROL } } },
  })
  jwks(): JwksDto {
    return this.body;
  }
}
