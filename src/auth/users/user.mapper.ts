import type { AdminUserDto } from '../admin/admin-user.dto.js';
import type { UserDto } from '../dto/user.dto.js';
import type { StoredUser } from './user-store.js';

/** The API's view of a user: never the password hash. */
export function toUserDto(user: StoredUser): UserDto {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    roles: user.roles,
    createdAt: user.createdAt.toISOString(),
  };
}

/** What administrators see of a user: the API's view and whether the account is disabled. */
export function toAdminUserDto(user: StoredUser): AdminUserDto {
  return { ...toUserDto(user), disabledAt: user.disabledAt?.toISOString() ?? null };
}
