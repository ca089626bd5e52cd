import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { REFRESH_TOKEN_EXAMPLE } from './token-pair.dto.js';

export const REFRESH_TOKEN_MAX_LENGTH = 512;

/** The body of the routes taking a refresh token; checked by RefreshTokenStrategy, which runs first. */
export class RefreshTokenDto {
  @ApiPropertyOptional({ description: 'The refresh token; may be sent in the refresh cookie instead', maxLength: 512, example: REFRESH_TOKEN_EXAMPLE })
  @IsOptional()
  @IsString()
  @MaxLength(REFRESH_TOKEN_MAX_LENGTH)
  refreshToken?: string;
}
