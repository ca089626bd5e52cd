// `npm run openapi`: writes openapi.json (the document the service serves with NODE_ENV=production) and
// src/client/openapi-types.ts (its TypeScript types). Needs no database: Nest's preview mode builds the
// module graph, controllers and their metadata without instantiating any provider.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { AppModule } from '../src/app.module.js';
import { generatePrivateJwk } from '../src/auth/index.js';
import { loadConfiguration } from '../src/config/configuration.js';
import { openApiDocument } from '../src/openapi/openapi-document.js';
import { OPENAPI_JSON, OPENAPI_TYPES, renderTypes, serializeDocument } from './openapi-files.js';

// Production with nothing else set; the secrets it demands are throw-away (no provider ever reads them).
const UNUSED_DATABASE = 'postgres://openapi@127.0.0.1:1/unused';
const configuration = loadConfiguration({
  NODE_ENV: 'production',
  DATABASE_URL: UNUSED_DATABASE,
  JWT_PRIVATE_KEYS: JSON.stringify({ keys: [generatePrivateJwk('ES256')] }),
  REFRESH_TOKEN_SECRET: randomBytes(48).toString('base64url'),
});

const app = await NestFactory.create(AppModule.forRoot(configuration, UNUSED_DATABASE), new FastifyAdapter(), {
  preview: true,
  logger: false,
  abortOnError: false,
});
const document = openApiDocument(app, { cookieSecure: configuration.auth.cookieSecure! });
writeFileSync(OPENAPI_JSON, serializeDocument(document));
writeFileSync(OPENAPI_TYPES, await renderTypes(document));
process.stdout.write(`wrote ${OPENAPI_JSON} (${Object.keys(document.paths).length} paths) and ${OPENAPI_TYPES}\n`);
