import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsString, Matches, MaxLength } from 'class-validator';

export const ROLES_MAX = 32;
const ROLE_NAME_MAX = 64;
const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

/** The body of `PUT /admin/users/:id/roles`: the user's whole new set of roles. */
export class SetRolesDto {
  @ApiProperty({
    type: 'array',
    items: { type: 'string', pattern: ROLE_NAME.source, maxLength: ROLE_NAME_MAX },
    minItems: 1,
    maxItems: ROLES_MAX,
    uniqueItems: true,
    example: ['admin', 'user'],
    description: 'Replaces every role of the user; takes effect at their next refresh',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(ROLES_MAX)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(ROLE_NAME_MAX, { each: true })
  @Matches(ROLE_NAME, { each: true, message: 'each role must be letters, digits, and _ . : - (not first)' })
  roles: string[];
}
