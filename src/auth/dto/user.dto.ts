import { ApiProperty } from '@nestjs/swagger';

/** A user as the API shows it: never with a password hash. */
export class UserDto {
  @ApiProperty({ description: 'Opaque user id (a uuid for the built-in users table)', example: '0b9f0b8e-5f3a-4c1e-9d2a-7c6b5a4f3e2d' })
  id: string;

  @ApiProperty({ example: 'ada@example.com' })
  email: string;

  @ApiProperty({ type: String, nullable: true, example: 'Ada Lovelace' })
  displayName: string | null;

  @ApiProperty({ type: [String], example: ['user'] })
  roles: string[];

  @ApiProperty({ type: String, format: 'date-time', example: '2026-01-01T00:00:00.000Z' })
  createdAt: string;
}
