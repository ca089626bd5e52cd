// Jest runs in ESM mode (Nest 12 is ESM-only): `npm test` sets NODE_OPTIONS=--experimental-vm-modules.
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
  // @fastify/static (CommonJS) require()s this ESM-only package; Node 20 can, Jest's runtime cannot.
  'node_modules/content-disposition/.+\\.js$': [
    'ts-jest',
    { useESM: false, tsconfig: { allowJs: true, module: 'commonjs', moduleResolution: 'node10', isolatedModules: true } },
  ],
};
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform,
  testEnvironment: 'node',
  // Decorators read metadata; main.ts and ormconfig.ts import this first, so do the tests.
  setupFiles: ['reflect-metadata'],
};

/** @type {import('jest').Config} */
export default {
  // Starts a throw-away embedded PostgreSQL unless TEST_DATABASE_URL is set, and migrates it.
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  maxWorkers: 2,
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'unit', rootDir: '.', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', rootDir: '.', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
