import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository } from 'typeorm';
import { UserEntity } from './user.entity.js';
import { type NewUser, type StoredUser, UserStore } from './user-store.js';

const UNIQUE_VIOLATION = '23505';

/** UserStore on the `users` table. */
@Injectable()
export class TypeOrmUserStore extends UserStore {
  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {
    super();
  }

  async findByEmail(email: string): Promise<StoredUser | undefined> {
    return (await this.users.findOneBy({ email })) ?? undefined;
  }

  async findById(id: string): Promise<StoredUser | undefined> {
    return (await this.users.findOneBy({ id })) ?? undefined;
  }

  async create(user: NewUser): Promise<StoredUser | undefined> {
    try {
      return await this.users.save(this.users.create(user));
    } catch (error) {
      if (error instanceof QueryFailedError && (error.driverError as { code?: string }).code === UNIQUE_VIOLATION) return undefined;
      throw error;
    }
  }

  async updatePasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.users.update({ id }, { passwordHash });
  }
}
