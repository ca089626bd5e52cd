import { ApiProperty } from '@nestjs/swagger';
import type { PublicJwk } from '../tokens/signing-keys.js';

export class JwksDto {
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'Public JWKs with kid, alg and use "sig"; empty for HS256',
  })
  keys: PublicJwk[];
}
