import type { FastifyRequest } from 'fastify';
import { invalid } from './errors.ts';
import { inspectImage } from './image.ts';
import type { InputReference } from './types.ts';

export interface Submission {
  prompt: string | undefined;
  model: string | undefined;
  seconds: string | undefined;
  size: string | undefined;
  metadata: Record<string, string> | undefined;
  fields: Record<string, string>;
  inputReference: InputReference | undefined;
}

const METADATA_KEY = /^metadata\[(.+)\]$/;

function fromFields(
  fields: Record<string, string>,
  file: InputReference | undefined,
  metadataObject?: Record<string, string>,
): Submission {
  let metadata = metadataObject;
  for (const [key, value] of Object.entries(fields)) {
    const m = METADATA_KEY.exec(key);
    if (m?.[1] !== undefined) {
      metadata ??= {};
      metadata[m[1]] = value;
    }
  }
  const imageUrl = fields['input_reference[image_url]'];
  const fileId = fields['input_reference[file_id]'];
  const inputReference =
    file ??
    (imageUrl !== undefined || fileId !== undefined
      ? { kind: 'object' as const, imageUrl, fileId }
      : undefined);
  return {
    prompt: fields.prompt,
    model: fields.model,
    seconds: fields.seconds,
    size: fields.size,
    metadata,
    fields,
    inputReference,
  };
}

/** The SDK always sends multipart; JSON is accepted too, as the real API and gateways do. */
export async function parseSubmission(request: FastifyRequest): Promise<Submission> {
  if (request.isMultipart()) {
    const fields: Record<string, string> = {};
    let file: InputReference | undefined;
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const bytes = await part.toBuffer();
        if (part.fieldname === 'input_reference') {
          file = {
            kind: 'file',
            filename: part.filename,
            mimetype: part.mimetype,
            bytes: bytes.length,
            image: inspectImage(bytes),
          };
        }
      } else {
        fields[part.fieldname] = String(part.value);
      }
    }
    return fromFields(fields, file);
  }
  const body = request.body ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('The request body must be a JSON object or multipart/form-data.');
  }
  const fields: Record<string, string> = {};
  let metadata: Record<string, string> | undefined;
  let ref: InputReference | undefined;
  for (const [key, value] of Object.entries(body)) {
    if (['string', 'number', 'boolean'].includes(typeof value)) fields[key] = String(value);
    else if (key === 'metadata' && value && typeof value === 'object') {
      metadata = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
    } else if (key === 'input_reference' && value && typeof value === 'object') {
      const v = value as { image_url?: unknown; file_id?: unknown };
      ref = {
        kind: 'object',
        imageUrl: typeof v.image_url === 'string' ? v.image_url : undefined,
        fileId: typeof v.file_id === 'string' ? v.file_id : undefined,
      };
    }
  }
  return fromFields(fields, ref, metadata);
}
