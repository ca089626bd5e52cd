import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AuthModuleOptions, generatePrivateJwk } from '../auth/index.js';
import type { Configuration } from './configuration.js';

/**
 * Reads a development-only secret from dataDir, creating it on first use, so restarts keep
 * sessions and tokens valid. Production refuses to start without real secrets (see configuration.ts).
 */
function readOrCreateDevelopmentSecret(dataDir: string, fileName: string, create: () => string): string {
  const path = join(dataDir, fileName);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    // Written whole under a name of its own, then linked into place: no process ever reads a file still
    // being written, and when several start at once the first link wins and every one reads its secret.
    const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(draft, `${create()}\n`, { mode: 0o600 });
    try {
      chmodSync(draft, 0o600);
      linkSync(draft, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(draft);
    }
    return readFileSync(path, 'utf8').trim();
  }
}

/**
 * The auth options with the secrets a development machine lacks filled in from dataDir (generated on
 * first use), so restarts keep sessions and tokens valid. Production passes them through untouched:
 * authOptionsFromEnv has already demanded them there.
 */
export function withDevelopmentSecrets(configuration: Configuration): AuthModuleOptions {
  const { auth, dataDir, production } = configuration;
  if (production) return auth;
  const algorithm = auth.jwtAlgorithm ?? 'ES256';
  const secret = (fileName: string) => readOrCreateDevelopmentSecret(dataDir, fileName, () => randomBytes(48).toString('base64url'));
  return {
    ...auth,
    refreshTokenSecret: auth.refreshTokenSecret ?? secret('refresh-token-secret'),
    ...(algorithm === 'HS256'
      ? { jwtSecret: auth.jwtSecret ?? secret('jwt-secret') }
      : {
          jwtPrivateKeys:
            auth.jwtPrivateKeys ??
            readOrCreateDevelopmentSecret(dataDir, `jwt-private-keys.${algorithm}.json`, () =>
              JSON.stringify({ keys: [generatePrivateJwk(algorithm)] }),
            ),
        }),
  };
}
