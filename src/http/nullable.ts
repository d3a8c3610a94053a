import { Type } from 'typebox';

/**
 * An optional string that clients may also send as null (generated SDKs of
 * several languages do), as plain JSON Schema so a 400 says "must be string,null".
 */
export function optionalText(options: { maxLength?: number; minLength?: number; description?: string } = {}) {
  return Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], ...options }));
}

export function optionalFlag(description?: string) {
  return Type.Optional(Type.Unsafe<boolean | null>({ type: ['boolean', 'null'], ...(description ? { description } : {}) }));
}

/** A reply field that is documented but never carries its secret: always null. */
export const WithheldSecret = Type.Unsafe<null>({ type: ['string', 'null'], description: 'Write-only: always null in replies.' });
