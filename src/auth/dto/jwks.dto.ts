import { ApiProperty } from '@nestjs/swagger';
import type { PublicJwk } from '../tokens/signing-keys.js';

export class JwksDto {
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'Public JWKs with kid, alg and use "sig"; empty for HS256',
    example: [
      {
        kty: 'EC',
        crv: 'P-256',
        x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
        y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
        kid: 'k1',
        alg: 'ES256',
        use: 'sig',
      },
    ],
  })
  keys: PublicJwk[];
}
