import { ApiProperty } from '@nestjs/swagger';

/** A live session as its user and administrators see it: no token material. */
export class SessionInfoDto {
  @ApiProperty({ format: 'uuid', example: '5f0c2a3e-8d1b-4c7a-9e6f-1a2b3c4d5e6f' })
  id: string;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-01-01T00:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-01-01T00:15:00.000Z' })
  lastUsedAt: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'Absolute end of the session', example: '2026-01-31T00:00:00.000Z' })
  expiresAt: string;

  @ApiProperty({ type: String, nullable: true, example: 'Mozilla/5.0 (X11; Linux x86_64)' })
  userAgent: string | null;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ip: string | null;
}

/** One of the caller's own sessions. */
export class SessionDto extends SessionInfoDto {
  @ApiProperty({ description: 'True for the session of the access token making this request', example: true })
  current: boolean;
}
