import { ApiProperty } from '@nestjs/swagger';

export class ClaimsDto {
  @ApiProperty({ description: 'User id (opaque: a uuid for the built-in users table)' })
  sub: string;

  @ApiProperty({ format: 'uuid', description: 'Session id' })
  sid: string;

  @ApiProperty({ type: [String] })
  roles: string[];

  @ApiProperty({ description: 'Issued at, seconds since the epoch' })
  iat: number;

  @ApiProperty({ description: 'Expires at, seconds since the epoch' })
  exp: number;
}
