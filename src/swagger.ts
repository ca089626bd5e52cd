import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { addAuthSecuritySchemes } from './auth/index.js';

/** Serves the OpenAPI 3 document at /docs-json and Swagger UI at /docs. */
export function setUpSwagger(app: INestApplication): void {
  const config = addAuthSecuritySchemes(
    new DocumentBuilder()
      .setTitle('Auth service')
      .setDescription(
        'Short-lived JWT access tokens and rotating opaque refresh tokens. Every error is ' +
          '`{statusCode, error, message, code}` with a stable `code`.',
      )
      .setVersion('1.0'),
    app,
  ).build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
