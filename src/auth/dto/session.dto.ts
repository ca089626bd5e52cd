import { ApiProperty } from '@nestjs/swagger';

/** A live session as its user and administrators see it: no token material. */
export class SessionInfoDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time' })
  lastUsedAt: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'Absolute end of the session' })
  expiresAt: string;

  @ApiProperty({ type: String, nullable: true })
  userAgent: string | null;

  @ApiProperty({ type: String, nullable: true })
  ip: string | null;
}

/** One of the caller's own sessions. */
export class SessionDto extends SessionInfoDto {
  @ApiProperty({ description: 'True for the session of the access token making this request' })
  current: boolean;
}
