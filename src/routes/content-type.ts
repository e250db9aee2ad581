/** Content-Type rules of the endpoint. Pure functions over header values. */

/** `application/json` or any `application/*+json`, parameters ignored. */
export function isJsonMediaType(contentType: string): boolean {
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
}

/** A body is coming when it is chunked or announces a length above zero. */
export function hasBody(headers: { 'transfer-encoding'?: string | undefined; 'content-length'?: string | undefined }): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = Number(headers['content-length']);
  return Number.isFinite(length) && length > 0;
}

/** No charset parameter, or `utf-8` (any case, quoted or not): the only charset JSON may use (RFC 8259). */
export function isUtf8(contentType: string): boolean {
  const match = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType);
  if (!match) return !/;\s*charset\s*=/i.test(contentType);
  const charset = match[2]!.toLowerCase();
  return charset === 'utf-8' || charset === 'utf8';
}
