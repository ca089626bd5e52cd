import { AuthSchema1796169600000 } from './1796169600000-AuthSchema.js';
import { AuthEvents1796169600001 } from './1796169600001-AuthEvents.js';

/**
 * The migrations of the package's tables, in order: add them to your DataSource's `migrations`
 * (`[...authMigrations, ...yours]`). Listed explicitly so every app and the CLI load the same set.
 */
export const authMigrations = [AuthSchema1796169600000, AuthEvents1796169600001];
