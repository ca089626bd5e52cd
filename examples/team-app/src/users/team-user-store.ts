import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type NewUser, type StoredUser, UserStore } from 'auth-service';
import { Repository } from 'typeorm';
import { TeamUser } from './team-user.entity.js';

/** A user as this app hands it to the auth package: the package's shape plus the tenant. */
export interface TeamStoredUser extends StoredUser {
  tenantId: string;
}

// The table's ids are integers; the package's are opaque strings.
const MAX_INTEGER_ID = 2 ** 31 - 1;

function toRowId(id: string): number | undefined {
  if (!/^[1-9]\d{0,9}$/.test(id)) return undefined;
  const value = Number(id);
  return value <= MAX_INTEGER_ID ? value : undefined;
}

/** New accounts land in the tenant of their email's domain. */
function tenantOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1);
}

function toStoredUser(row: TeamUser): TeamStoredUser {
  return {
    id: String(row.id),
    email: row.email,
    passwordHash: row.passwordHash,
    displayName: row.displayName,
    roles: row.isAdmin ? ['admin', 'user'] : ['user'],
    createdAt: row.createdAt,
    disabledAt: row.disabledAt,
    tenantId: row.tenantId,
  };
}

/** The auth package's UserStore port over the team's own `users` table. */
@Injectable()
export class TeamUserStore extends UserStore {
  constructor(@InjectRepository(TeamUser) private readonly users: Repository<TeamUser>) {
    super();
  }

  override async findByEmail(email: string): Promise<TeamStoredUser | undefined> {
    const row = await this.users.findOneBy({ email });
    return row ? toStoredUser(row) : undefined;
  }

  override async findById(id: string): Promise<TeamStoredUser | undefined> {
    const rowId = toRowId(id);
    if (rowId === undefined) return undefined;
    const row = await this.users.findOneBy({ id: rowId });
    return row ? toStoredUser(row) : undefined;
  }

  override async create(user: NewUser): Promise<TeamStoredUser | undefined> {
    // ON CONFLICT: a concurrent registration of the same email gets undefined, not a unique-violation error.
    const inserted: Array<{ id: number }> = await this.users.query(
      `INSERT INTO users (email, password_hash, display_name, tenant_id)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (email) DO NOTHING
       RETURNING id`,
      [user.email, user.passwordHash, user.displayName, tenantOf(user.email)],
    );
    if (inserted.length === 0) return undefined;
    const row = await this.users.findOneByOrFail({ id: inserted[0].id });
    return toStoredUser(row);
  }

  override async updatePasswordHash(id: string, passwordHash: string): Promise<void> {
    const rowId = toRowId(id);
    if (rowId !== undefined) await this.users.update({ id: rowId }, { passwordHash });
  }
}
