import { ApiProperty } from '@nestjs/swagger';
import { UserDto } from '../dto/user.dto.js';

/** A user as administrators see it: the public user and whether the account is disabled. */
export class AdminUserDto extends UserDto {
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the account was disabled; null while it is enabled', example: null })
  disabledAt: string | null;
}

/** One page of users, in email order. */
export class UserPageDto {
  @ApiProperty({ type: [AdminUserDto] })
  items: AdminUserDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page', example: 'YWRhQGV4YW1wbGUuY29t' })
  nextCursor: string | null;
}
