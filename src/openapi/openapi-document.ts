import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { addAuthSecuritySchemes, BEARER_SECURITY } from '../auth/index.js';
import { applyDocumentConventions } from './document-conventions.js';

const DESCRIPTION =
  'Short-lived JWT access tokens (`Authorization: Bearer`) and rotating opaque refresh tokens, in the body or in an ' +
  'HttpOnly cookie. Every error is `{statusCode, error, message, code}`; each response lists the `code`s its status ' +
  'can carry on that route. The same document is `openapi.json` in the repository.';

/**
 * The service's OpenAPI document, as /docs-json serves it and `npm run openapi` writes it. Every route
 * demands a Bearer token (the global guard) unless it says otherwise; operationIds are the handlers'
 * method names. `schemesFrom`: the running app, or `{ cookieSecure }` for one built in preview mode.
 */
export function openApiDocument(app: INestApplication, schemesFrom: INestApplicationContext | { cookieSecure: boolean } = app): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Auth service')
    .setDescription(DESCRIPTION)
    .setVersion('1.0')
    .addServer('/', 'This service')
    .addSecurityRequirements(BEARER_SECURITY)
    .addTag('auth', 'Register, log in, rotate and revoke tokens')
    .addTag('sessions', "The caller's sessions")
    .addTag('users', 'The caller')
    .addTag('admin', 'Managing other users (the admin role)')
    .addTag('keys', 'Public keys that verify access tokens')
    .addTag('health', 'Readiness and liveness probes');
  const document = SwaggerModule.createDocument(app, addAuthSecuritySchemes(builder, schemesFrom).build(), {
    operationIdFactory: (_controller, method) => method,
  });
  return applyDocumentConventions(document);
}
