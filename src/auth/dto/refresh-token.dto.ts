import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { REFRESH_TOKEN_EXAMPLE } from './token-pair.dto.js';

export class RefreshTokenDto {
  @ApiPropertyOptional({ description: 'The refresh token; may be sent in the refresh cookie instead', maxLength: 512, example: REFRESH_TOKEN_EXAMPLE })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  refreshToken?: string;
}
