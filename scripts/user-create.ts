// `npm run -s user:create -- --email E [--role admin ...] [--display-name N]`: creates a user (the way to
// make the first administrator); the password comes from standard input, typed or piped.
import { parseArgs } from 'node:util';
import { readPassword } from './read-password.js';
import { EXIT, usageError, withAdminService } from './user-command.js';

const USAGE = 'usage: npm run -s user:create -- --email E [--role R ...] [--display-name N]   (the password on standard input)';

async function main(): Promise<number> {
  let values: { email?: string; role?: string[]; 'display-name'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        email: { type: 'string' },
        role: { type: 'string', multiple: true },
        'display-name': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return usageError((error as Error).message, USAGE);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const { email, role: roles, 'display-name': displayName } = values;
  if (!email) return usageError('--email is required', USAGE);
  let password: string;
  try {
    password = await readPassword();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return EXIT.refused;
  }
  return withAdminService(async (admin) => {
    const user = await admin.createUser({ email, password, displayName, roles }, {});
    return `created user ${user.email} (${user.id}) with roles ${user.roles.join(', ')}`;
  });
}

process.exit(await main());
