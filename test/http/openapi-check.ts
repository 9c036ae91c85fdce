// Checks a real HTTP answer against the OpenAPI document: the status is documented for that
// operation, required headers are there, the media type is documented, and a JSON body validates
// against the documented schema (JSON Schema 2020-12, $refs into the document resolved).
import { Validator, type Schema } from '@cfworker/json-schema';
import type { OpenApiDocument } from '../../src/http/openapi.js';

const DOC_ID = 'https://openapi.test/openapi.json';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

interface ResponseObject {
  content?: Record<string, { schema?: Schema }>;
  headers?: Record<string, { required?: boolean; $ref?: string }>;
}

export function checkAnswer(doc: OpenApiDocument, method: string, path: string, answer: Answer): string[] {
  const where = `${method} ${path} → ${answer.status}`;
  const op = doc.paths[path]?.[method.toLowerCase()] as { responses: Record<string, unknown> } | undefined;
  if (op === undefined) return [`${method} ${path} is not documented`];
  const documented = op.responses[String(answer.status)];
  if (documented === undefined) return [`${where}: status not documented`];
  const response = deref(doc, documented) as ResponseObject;
  const problems: string[] = [];

  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const h = deref(doc, header) as { required?: boolean };
    if (h.required && !answer.headers.has(name)) problems.push(`${where}: header ${name} missing`);
  }

  if (response.content === undefined) {
    if (answer.text !== '') problems.push(`${where}: a body where none is documented`);
    return problems;
  }
  const mediaType = (answer.headers.get('content-type') ?? '').split(';')[0].trim();
  const media = response.content[mediaType];
  if (media === undefined) {
    problems.push(`${where}: content type ${mediaType || '(none)'} not documented`);
    return problems;
  }
  if (mediaType === 'application/json' && media.schema !== undefined) {
    const validator = new Validator(withDocRefs(media.schema) as Schema, '2020-12', false);
    validator.addSchema(doc as unknown as Schema, DOC_ID);
    const result = validator.validate(JSON.parse(answer.text));
    for (const e of result.errors) problems.push(`${where}: ${e.instanceLocation} ${e.error}`);
  }
  return problems;
}

/** The schema with its local $refs pointing into the document (added to the validator as DOC_ID). */
function withDocRefs(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/', `"$ref":"${DOC_ID}#/`));
}

/** Follows a local $ref ("#/components/…") to what it points at. */
export function deref(doc: OpenApiDocument, value: unknown): unknown {
  let v = value as { $ref?: string };
  for (let depth = 0; typeof v?.$ref === 'string' && depth < 10; depth++) {
    v = resolvePointer(doc, v.$ref) as { $ref?: string };
  }
  return v;
}

export function resolvePointer(doc: OpenApiDocument, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`not a local $ref: ${ref}`);
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  return node;
}
