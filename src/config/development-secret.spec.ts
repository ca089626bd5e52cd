import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveAuthSettings } from '../auth/options/auth-settings.js';
import { generatePrivateJwk, loadSigningKeys } from '../auth/tokens/signing-keys.js';
import { loadConfiguration } from './configuration.js';
import { withDevelopmentSecrets } from './development-secret.js';

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe('withDevelopmentSecrets', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'development-secret-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  /** A fresh data directory, not created yet: the first call makes it. */
  const freshDir = async () => path.join(await mkdtemp(path.join(root, 'case-')), 'data');

  it('passes a production configuration through untouched and writes nothing', async () => {
    const dataDir = await freshDir();
    const configuration = loadConfiguration({
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      DATABASE_URL: 'postgres://db/auth',
      REFRESH_TOKEN_SECRET: 'x'.repeat(32),
      JWT_PRIVATE_KEYS: JSON.stringify({ keys: [generatePrivateJwk('ES256')] }),
    });
    const before = structuredClone(configuration.auth);
    expect(withDevelopmentSecrets(configuration)).toBe(configuration.auth);
    expect(configuration.auth).toEqual(before);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('HS256: fills in jwtSecret and refreshTokenSecret, at least 32 bytes each, in files of mode 0600', async () => {
    const dataDir = await freshDir();
    const options = withDevelopmentSecrets(loadConfiguration({ DATA_DIR: dataDir, JWT_ALGORITHM: 'HS256' }));
    expect(options.jwtAlgorithm).toBe('HS256');
    expect(options.jwtPrivateKeys).toBeUndefined();
    expect(Buffer.byteLength(options.jwtSecret!, 'utf8')).toBeGreaterThanOrEqual(32);
    expect(Buffer.byteLength(options.refreshTokenSecret, 'utf8')).toBeGreaterThanOrEqual(32);
    expect(options.jwtSecret).not.toBe(options.refreshTokenSecret);
    expect(await readdir(dataDir)).toEqual(expect.arrayContaining(['jwt-secret', 'refresh-token-secret']));
    expect((await readFile(path.join(dataDir, 'jwt-secret'), 'utf8')).trim()).toBe(options.jwtSecret);
    expect((await readFile(path.join(dataDir, 'refresh-token-secret'), 'utf8')).trim()).toBe(options.refreshTokenSecret);
    expect(modeOf(path.join(dataDir, 'jwt-secret'))).toBe(0o600);
    expect(modeOf(path.join(dataDir, 'refresh-token-secret'))).toBe(0o600);
    expect(loadSigningKeys('HS256', options.jwtSecret!, 'jwtSecret').algorithm).toBe('HS256');
    expect(resolveAuthSettings(options).signingKeys.algorithm).toBe('HS256');
  });

  it.each(['ES256', 'RS256'] as const)('%s: fills in a private key set that loadSigningKeys accepts, in a file of mode 0600', async (algorithm) => {
    const dataDir = await freshDir();
    const options = withDevelopmentSecrets(loadConfiguration({ DATA_DIR: dataDir, JWT_ALGORITHM: algorithm }));
    expect(options.jwtSecret).toBeUndefined();
    const keys = loadSigningKeys(algorithm, options.jwtPrivateKeys!, 'jwtPrivateKeys');
    expect(keys.algorithm).toBe(algorithm);
    const file = path.join(dataDir, `jwt-private-keys.${algorithm}.json`);
    const stored = JSON.parse(await readFile(file, 'utf8'));
    expect(stored.keys).toHaveLength(1);
    expect(stored.keys[0].kid).toBe(keys.signing.kid);
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(path.join(dataDir, 'refresh-token-secret'))).toBe(0o600);
    expect(resolveAuthSettings(options).signingKeys.signing.kid).toBe(keys.signing.kid);
  });

  it('uses ES256 when no algorithm is set', async () => {
    const dataDir = await freshDir();
    const options = withDevelopmentSecrets(loadConfiguration({ DATA_DIR: dataDir }));
    expect(loadSigningKeys('ES256', options.jwtPrivateKeys!, 'jwtPrivateKeys').algorithm).toBe('ES256');
    expect(existsSync(path.join(dataDir, 'jwt-private-keys.ES256.json'))).toBe(true);
  });

  it.each(['ES256', 'RS256', 'HS256'] as const)('%s: a second call reads the same files, so restarts keep tokens and sessions valid', async (algorithm) => {
    const dataDir = await freshDir();
    const first = withDevelopmentSecrets(loadConfiguration({ DATA_DIR: dataDir, JWT_ALGORITHM: algorithm }));
    const files = await readdir(dataDir);
    const second = withDevelopmentSecrets(loadConfiguration({ DATA_DIR: dataDir, JWT_ALGORITHM: algorithm }));
    expect(second).toEqual(first);
    expect(await readdir(dataDir)).toEqual(files);
    expect(resolveAuthSettings(second).signingKeys.signing.kid).toBe(resolveAuthSettings(first).signingKeys.signing.kid);
  });

  it('keeps a key file per algorithm, so switching algorithms does not clobber the other key', async () => {
    const dataDir = await freshDir();
    const es = withDevelopmentSecrets(loadConfiguration({ DATA_DIR: dataDir, JWT_ALGORITHM: 'ES256' }));
    const rs = withDevelopmentSecrets(loadConfiguration({ DATA_DIR: dataDir, JWT_ALGORITHM: 'RS256' }));
    expect(rs.refreshTokenSecret).toBe(es.refreshTokenSecret);
    expect(withDevelopmentSecrets(loadConfiguration({ DATA_DIR: dataDir, JWT_ALGORITHM: 'ES256' })).jwtPrivateKeys).toBe(es.jwtPrivateKeys);
    expect((await readdir(dataDir)).sort()).toEqual(['jwt-private-keys.ES256.json', 'jwt-private-keys.RS256.json', 'refresh-token-secret']);
  });

  it('keeps secrets the variables give, and writes no file for them', async () => {
    const dataDir = await freshDir();
    const given = { REFRESH_TOKEN_SECRET: 'r'.repeat(32), JWT_SECRET: 'j'.repeat(32) };
    const options = withDevelopmentSecrets(loadConfiguration({ DATA_DIR: dataDir, JWT_ALGORITHM: 'HS256', ...given }));
    expect(options.refreshTokenSecret).toBe(given.REFRESH_TOKEN_SECRET);
    expect(options.jwtSecret).toBe(given.JWT_SECRET);
    expect(existsSync(dataDir)).toBe(false);

    const jwtPrivateKeys = JSON.stringify({ keys: [generatePrivateJwk('ES256')] });
    const es = withDevelopmentSecrets(loadConfiguration({ DATA_DIR: dataDir, JWT_PRIVATE_KEYS: jwtPrivateKeys }));
    expect(es.jwtPrivateKeys).toBe(jwtPrivateKeys);
    expect(await readdir(dataDir)).toEqual(['refresh-token-secret']);
  });

  it('reads a secret already in the data directory, without its trailing newline', async () => {
    const dataDir = await freshDir();
    await mkdir(dataDir, { recursive: true });
    await writeFile(path.join(dataDir, 'refresh-token-secret'), `${'s'.repeat(40)}\n`);
    await writeFile(path.join(dataDir, 'jwt-secret'), `${'k'.repeat(40)}\n`);
    const options = withDevelopmentSecrets(loadConfiguration({ DATA_DIR: dataDir, JWT_ALGORITHM: 'HS256' }));
    expect(options.refreshTokenSecret).toBe('s'.repeat(40));
    expect(options.jwtSecret).toBe('k'.repeat(40));
  });

  it('keeps the other auth options as they are', async () => {
    const dataDir = await freshDir();
    const configuration = loadConfiguration({ DATA_DIR: dataDir, ACCESS_TOKEN_TTL: '5m', CORS_ORIGINS: 'https://a.example', RATE_LIMIT: 'off' });
    const options = withDevelopmentSecrets(configuration);
    expect(options).toMatchObject(configuration.auth);
    expect(options).not.toBe(configuration.auth);
    expect(configuration.auth.refreshTokenSecret).toBeUndefined();
  });
});
