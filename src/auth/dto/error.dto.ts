import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AuthErrorCode } from '../errors/auth-error-code.js';

/** The body of every error response. */
export class ErrorDto {
  @ApiProperty({ type: 'integer', example: 401 })
  statusCode: number;

  @ApiProperty({ example: 'Unauthorized' })
  error: string;

  @ApiProperty({ example: 'Invalid email or password.' })
  message: string;

  @ApiProperty({ enum: Object.values(AuthErrorCode), example: AuthErrorCode.InvalidCredentials, description: 'Stable machine-readable code' })
  code: AuthErrorCode;

  @ApiPropertyOptional({ type: [String], description: 'Which fields failed validation (validation_failed only)', example: ['email must be an email'] })
  details?: string[];
}
