import type { INestApplication } from '@nestjs/common';
import { SwaggerModule } from '@nestjs/swagger';
import { openApiDocument } from './openapi/openapi-document.js';

/** Serves the OpenAPI 3 document at /docs-json (and /docs-yaml) and Swagger UI at /docs. */
export function setUpSwagger(app: INestApplication): void {
  SwaggerModule.setup('docs', app, openApiDocument(app), { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
