import type { OpenAPIObject, OperationObject, ReferenceObject, SchemaObject } from '@nestjs/swagger';
import { AuthErrorCode, errorResponses } from '../auth/index.js';

type Schema = SchemaObject | ReferenceObject;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * What holds for every route of this service, whoever wrote its controller, applied to the document
 * Nest generated: so a new controller gets it by being there.
 */
export function applyDocumentConventions(document: OpenAPIObject): OpenAPIObject {
  const operations = operationsOf(document);
  assertUniqueOperationIds(operations);
  declareRequestIdComponents(document);
  for (const operation of operations) {
    openPublicRoutes(operation);
    declareBodyErrors(operation);
    declareRequestId(operation);
    addExamples(operation, document);
  }
  return sortMaps(document);
}

function operationsOf(document: OpenAPIObject): OperationObject[] {
  return Object.values(document.paths).flatMap((item) => METHODS.flatMap((method) => (item[method] ? [item[method]] : [])));
}

// Clients name their calls after operationIds (the method names): two alike would collide there.
function assertUniqueOperationIds(operations: OperationObject[]): void {
  const seen = new Set<string>();
  for (const { operationId } of operations) {
    if (!operationId) continue;
    if (seen.has(operationId)) throw new Error(`Two routes are handled by methods named ${operationId}: rename one (it is the OpenAPI operationId)`);
    seen.add(operationId);
  }
}

// @Public() documents the empty requirement `{}`; alone, it is the idiomatic "no security" `[]`.
function openPublicRoutes(operation: OperationObject): void {
  if (operation.security?.length === 1 && Object.keys(operation.security[0]).length === 0) operation.security = [];
}

// The HTTP layer (app.factory.ts) answers these on any route that takes a body, before the route runs.
function declareBodyErrors(operation: OperationObject): void {
  if (!operation.requestBody) return;
  const answered = errorResponses([AuthErrorCode.ValidationFailed, AuthErrorCode.PayloadTooLarge, AuthErrorCode.UnsupportedMediaType]);
  for (const [status, response] of Object.entries(answered)) operation.responses[status] ??= response;
}

// The HTTP layer (src/http/request-id.ts) keeps a well-formed caller's id, or makes one, on every answer:
// declared once under components, referred to by every operation and response.
const REQUEST_ID_SCHEMA: SchemaObject = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$', example: '3f6c1d2e-9a8b-4c7d-8e6f-5a4b3c2d1e0f' };
function declareRequestIdComponents(document: OpenAPIObject): void {
  document.components ??= {};
  document.components.parameters = {
    ...document.components.parameters,
    RequestId: {
      name: 'X-Request-Id',
      in: 'header',
      required: false,
      description: 'Your id for this request, echoed back and logged when well-formed; else the service makes one',
      schema: REQUEST_ID_SCHEMA,
    },
  };
  document.components.headers = { ...document.components.headers, RequestId: { description: 'The id this request is logged under', schema: REQUEST_ID_SCHEMA } };
}

function declareRequestId(operation: OperationObject): void {
  operation.parameters = [...(operation.parameters ?? []), { $ref: '#/components/parameters/RequestId' }];
  for (const response of Object.values(operation.responses)) {
    if (!response || '$ref' in response) continue;
    response.headers = { ...response.headers, 'X-Request-Id': { $ref: '#/components/headers/RequestId' } };
  }
}

// Bodies without an example get one composed from their schema's property examples.
function addExamples(operation: OperationObject, document: OpenAPIObject): void {
  const bodies = [operation.requestBody, ...Object.values(operation.responses)];
  for (const body of bodies) {
    if (!body || '$ref' in body) continue;
    for (const media of Object.values(body.content ?? {})) {
      if (media.schema && media.example === undefined && media.examples === undefined) media.example = exampleOf(media.schema, document);
    }
  }
}

function exampleOf(schema: Schema, document: OpenAPIObject): unknown {
  if ('$ref' in schema) return exampleOf(document.components!.schemas![schema.$ref.split('/').pop()!], document);
  if (schema.example !== undefined) return schema.example;
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((part) => exampleOf(part, document)));
  if (schema.type === 'array' && schema.items) return [exampleOf(schema.items, document)];
  if (schema.properties) return Object.fromEntries(Object.entries(schema.properties).map(([name, property]) => [name, exampleOf(property, document)]));
  return schema.enum?.[0];
}

// A stable order whatever order modules register their controllers in, so openapi.json diffs stay small.
// Statuses are three digits: sorted as text, they are sorted as numbers.
function sortMaps(document: OpenAPIObject): OpenAPIObject {
  const sorted = <T>(map: Record<string, T>) => Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  for (const operation of operationsOf(document)) operation.responses = sorted(operation.responses);
  document.paths = sorted(document.paths);
  if (document.components?.schemas) document.components.schemas = sorted(document.components.schemas);
  document.tags?.sort((a, b) => (a.name < b.name ? -1 : 1));
  return document;
}
