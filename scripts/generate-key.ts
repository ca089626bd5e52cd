// `npm run -s keys:generate [-- --alg RS256]`: prints one new private JWK (ES256 unless told) on stdout.
// It is a secret: put it first in JWT_PRIVATE_KEYS (see docs/tokens.md, "Rotating keys"), never in git.
import { parseArgs } from 'node:util';
import { generatePrivateJwk, type JwtAlgorithm } from '../src/auth/index.js';

type AsymmetricJwtAlgorithm = Exclude<JwtAlgorithm, 'HS256'>;

const ALGORITHMS: readonly AsymmetricJwtAlgorithm[] = ['ES256', 'RS256'];
const USAGE = 'usage: npm run -s keys:generate [-- --alg ES256|RS256]';

function main(): number {
  let alg: string;
  try {
    const { values } = parseArgs({ options: { alg: { type: 'string', default: 'ES256' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    alg = values.alg;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!ALGORITHMS.includes(alg as AsymmetricJwtAlgorithm)) {
    const hint = alg === 'HS256' ? ' (HS256 uses JWT_SECRET, not a JWK)' : alg === 'EdDSA' ? ' (EdDSA is not supported by jsonwebtoken 9)' : '';
    process.stderr.write(`--alg must be ES256 or RS256${hint}\n${USAGE}\n`);
    return 2;
  }
  process.stdout.write(`${JSON.stringify(generatePrivateJwk(alg as AsymmetricJwtAlgorithm))}\n`);
  return 0;
}

process.exitCode = main();
