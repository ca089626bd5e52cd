import { ApiProperty } from '@nestjs/swagger';

export class ClaimsDto {
  @ApiProperty({ description: 'User id (opaque: a uuid for the built-in users table)', example: '0b9f0b8e-5f3a-4c1e-9d2a-7c6b5a4f3e2d' })
  sub: string;

  @ApiProperty({ format: 'uuid', description: 'Session id', example: '5f0c2a3e-8d1b-4c7a-9e6f-1a2b3c4d5e6f' })
  sid: string;

  @ApiProperty({ type: [String], example: ['user'] })
  roles: string[];

  @ApiProperty({ type: 'integer', description: 'Issued at, seconds since the epoch', example: 1767225600 })
  iat: number;

  @ApiProperty({ type: 'integer', description: 'Expires at, seconds since the epoch', example: 1767226500 })
  exp: number;
}
