import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import type { ApiFamily } from './route-config.js';

/** Every Backup & Replication revision seen in clients in the wild (API-NOTES §8). */
export const VBR_REVISIONS = ['1.0-rev1', '1.0-rev2', '1.1-rev0', '1.1-rev1', '1.1-rev2', '1.2-rev0', '1.2-rev1', '1.3-rev0', '1.3-rev1', '1.3-rev2'] as const;
export type VbrRevision = (typeof VBR_REVISIONS)[number];

/** Backup for AWS: 1.0-rev0, the revision of the certificate API, and the later 1.x ones. */
export const VBA_REVISIONS = ['1.0-rev0', '1.1-rev0', '1.2-rev0', '1.3-rev0', '1.4-rev0', '1.5-rev0', '1.6-rev0', '1.7-rev0'] as const;

const supported: Record<ApiFamily, readonly string[]> = { vbr: VBR_REVISIONS, vba: VBA_REVISIONS };
const lookup: Record<ApiFamily, Set<string>> = {
  vbr: new Set(VBR_REVISIONS),
  vba: new Set(VBA_REVISIONS),
};

function supportedList(family: ApiFamily): string {
  return supported[family].map((r) => `v${r}`).join(', ');
}

/**
 * Reads `x-api-version` (Node lower-cases header names, so any case arrives here)
 * and returns the revision, or throws the 400 that Veeam's server gives:
 * "Unsupported RESTAPI version. The following versions are supported: …".
 */
export function negotiateRevision(request: FastifyRequest, family: ApiFamily): string {
  const raw = request.headers['x-api-version'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!value) {
    throw new ApiError(400, 'UnexpectedContent', `The x-api-version header is required. The following versions are supported: ${supportedList(family)}.`);
  }
  const normalized = value.replace(/^v/i, '').toLowerCase();
  if (!lookup[family].has(normalized)) {
    throw new ApiError(400, 'UnexpectedContent', `Unsupported RESTAPI version "${value.slice(0, 40)}". The following versions are supported: ${supportedList(family)}.`);
  }
  return normalized;
}

/** True for 1.2-rev0 and later, where several fields were renamed. */
export function isRevisionAtLeast(revision: string | undefined, minimum: string): boolean {
  if (!revision) return false;
  const parse = (r: string) => r.split(/[.-]rev|\./).map(Number);
  const a = parse(revision);
  const b = parse(minimum);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}
