// `npm run -s user:roles -- --email E --role admin [--role user ...]`: replaces a user's roles (they take
// effect at the user's next refresh).
import { parseArgs } from 'node:util';
import { EXIT, usageError, withAdminService } from './user-command.js';

const USAGE = 'usage: npm run -s user:roles -- --email E --role R [--role R ...]';

async function main(): Promise<number> {
  let values: { email?: string; role?: string[]; help?: boolean };
  try {
    ({ values } = parseArgs({ options: { email: { type: 'string' }, role: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    return usageError((error as Error).message, USAGE);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const { email, role: roles } = values;
  if (!email) return usageError('--email is required', USAGE);
  if (!roles?.length) return usageError('at least one --role is required', USAGE);
  return withAdminService(async (admin) => {
    const user = await admin.setRolesByEmail(email, roles, {});
    return `set the roles of ${user.email} (${user.id}) to ${user.roles.join(', ')}`;
  });
}

process.exit(await main());
