import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class RefreshTokenDto {
  @ApiPropertyOptional({ description: 'The refresh token; may be sent in the refresh cookie instead' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  refreshToken?: string;
}
