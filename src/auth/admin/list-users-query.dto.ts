import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { normalizeEmail } from '../dto/email.transform.js';
import { NoControlCharacters } from '../dto/no-control-characters.js';

export const USERS_PAGE_DEFAULT = 20;
export const USERS_PAGE_MAX = 100;

// `?limit=` (an empty value) means no limit given, like leaving the parameter out.
const blankAsAbsent = (value: unknown): unknown => (value === '' ? undefined : value);

/** The query of `GET /admin/users`; any other parameter is refused. */
export class ListUsersQueryDto {
  @ApiPropertyOptional({ description: 'Only users whose email starts with this (compared as emails are: NFC, case-insensitive)', maxLength: 254, example: 'ada' })
  @Transform(({ value }) => (typeof value === 'string' ? blankAsAbsent(normalizeEmail(value)) : value))
  @IsOptional()
  @IsString()
  @MaxLength(254)
  @NoControlCharacters()
  email?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: USERS_PAGE_MAX, default: USERS_PAGE_DEFAULT })
  // Digits only: `Number()` would also take ' 5', '0x10' or '1e2'.
  @Transform(({ value }) => (typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : blankAsAbsent(value)))
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(USERS_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page (opaque)', maxLength: 512 })
  @Transform(({ value }) => blankAsAbsent(value))
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}
