import { ApiProperty } from '@nestjs/swagger';

export const REFRESH_TOKEN_EXAMPLE = 'XOCPT1CgS1i6Ywq0bWbG2A.NnLr8ZfYk3s0mJ1c2n8H9bqT5yW7xV4uE6dR0aPzQkI';

export class TokenPairDto {
  @ApiProperty({
    description: 'JWT access token (typ at+jwt); send as Authorization: Bearer',
    example: 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImsxIn0.eyJzdWIiOiIwYjlmIn0.c2lnbmF0dXJl',
  })
  accessToken: string;

  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' })
  tokenType: 'Bearer';

  @ApiProperty({ type: 'integer', description: 'Access-token lifetime in seconds', example: 900 })
  expiresIn: number;

  @ApiProperty({ description: 'Opaque refresh token; also set in the HttpOnly refresh cookie', example: REFRESH_TOKEN_EXAMPLE })
  refreshToken: string;

  @ApiProperty({ type: 'integer', description: 'Seconds the refresh token stays usable if not used (idle and absolute limits)', example: 604800 })
  refreshTokenExpiresIn: number;

  @ApiProperty({ format: 'uuid', description: 'The session (refresh-token family) id', example: '5f0c2a3e-8d1b-4c7a-9e6f-1a2b3c4d5e6f' })
  sessionId: string;
}
