import { ApiProperty } from '@nestjs/swagger';

export class TokenPairDto {
  @ApiProperty({ description: 'JWT access token (typ at+jwt); send as Authorization: Bearer' })
  accessToken: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType: 'Bearer';

  @ApiProperty({ description: 'Access-token lifetime in seconds', example: 900 })
  expiresIn: number;

  @ApiProperty({ description: 'Opaque refresh token; also set in the HttpOnly refresh cookie' })
  refreshToken: string;

  @ApiProperty({ description: 'Seconds the refresh token stays usable if not used (idle and absolute limits)', example: 604800 })
  refreshTokenExpiresIn: number;

  @ApiProperty({ format: 'uuid', description: 'The session (refresh-token family) id' })
  sessionId: string;
}
