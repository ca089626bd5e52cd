import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads a development-only secret from dataDir, creating it on first use, so restarts keep
 * sessions and tokens valid. Production refuses to start without real secrets (see configuration.ts).
 */
export function readOrCreateDevelopmentSecret(dataDir: string, fileName: string, create: () => string): string {
  const path = join(dataDir, fileName);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = create();
    // 'wx' so two processes starting at once keep the first one's secret.
    try {
      writeFileSync(path, `${secret}\n`, { flag: 'wx', mode: 0o600 });
    } catch {
      return readFileSync(path, 'utf8').trim();
    }
    chmodSync(path, 0o600);
    return secret;
  }
}
