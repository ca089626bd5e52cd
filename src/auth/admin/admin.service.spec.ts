import type { AuthService } from '../auth.service.js';
import type { AuthEvents } from '../events/auth-events.js';
import { ConfigurationError } from '../options/configuration-error.js';
import type { SessionsService } from '../sessions/sessions.service.js';
import { type StoredUser, UserStore } from '../users/user-store.js';
import type { AuthValidationPipe } from '../validation.pipe.js';
import { AdminService } from './admin.service.js';

/** A store with only the required methods, as a team's may be. */
class MinimalUserStore extends UserStore {
  async findByEmail(): Promise<StoredUser | undefined> {
    return undefined;
  }
  async findById(): Promise<StoredUser | undefined> {
    return undefined;
  }
  async create(): Promise<StoredUser | undefined> {
    return undefined;
  }
  async updatePasswordHash(): Promise<void> {}
}

const make = (users: UserStore) =>
  new AdminService(users, {} as AuthService, {} as SessionsService, {} as AuthEvents, {} as AuthValidationPipe);

describe('AdminService', () => {
  it('refuses at start-up a UserStore without the methods the admin routes need, naming each', () => {
    let error: unknown;
    try {
      make(new MinimalUserStore());
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const { problems } = error as ConfigurationError;
    expect(problems).toHaveLength(3);
    for (const method of ['list', 'setRoles', 'setDisabled']) expect(problems.join('\n')).toContain(`UserStore.${method}()`);
    expect(problems[0]).toContain('MinimalUserStore');
    expect(problems[0]).toContain('routes.admin unset or false');
  });

  it('names only what is missing', () => {
    class AlmostStore extends MinimalUserStore {
      override async list(): Promise<StoredUser[]> {
        return [];
      }
      override async setRoles(): Promise<StoredUser | undefined> {
        return undefined;
      }
    }
    expect(() => make(new AlmostStore())).toThrow(/UserStore\.setDisabled\(\)/);
    expect(() => make(new AlmostStore())).not.toThrow(/UserStore\.list\(\)/);
  });
});
