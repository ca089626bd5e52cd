import { ApiProperty } from '@nestjs/swagger';

export class ClaimsDto {
  @ApiProperty({ format: 'uuid', description: 'User id' })
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
