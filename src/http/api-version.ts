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

/**
 * What a request without `x-api-version` is answered as. Veeam marks the header required but
 * gives it a `default` in every document: the document's own revision (1.1-rev0 in 1.1-rev0,
 * 1.3-rev1 in 1.3-rev1…), and a jobs CLI written for VBR 13 sends none at all, so the real
 * server presumably answers such requests as its own release. Rampart does the same: the newest
 * revision it follows on Backup & Replication routes (so the default moves when a revision is
 * added to the end of VBR_REVISIONS), and Backup for AWS's only documented revision, 1.0-rev0.
 * Clients that send the header (every versioned client does) are unaffected.
 */
export const DEFAULT_REVISION: Record<ApiFamily, string> = {
  vbr: VBR_REVISIONS[VBR_REVISIONS.length - 1],
  vba: '1.0-rev0',
};

function supportedList(family: ApiFamily): string {
  return supported[family].map((r) => `v${r}`).join(', ');
}

/**
 * Reads `x-api-version` (Node lower-cases header names, so any case arrives here) and returns
 * the revision. A missing or empty header gets the family's DEFAULT_REVISION. An unsupported
 * one is the 400 Veeam's server gives ("Unsupported RESTAPI version. The following versions
 * are supported: …") with `errorCode: NotImplemented`: monitoring agents read exactly that code
 * as "this server does not speak my revision" and retry with an older one.
 */
export function negotiateRevision(request: FastifyRequest, family: ApiFamily): string {
  const raw = request.headers['x-api-version'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!value) return DEFAULT_REVISION[family];
  const normalized = value.replace(/^v/i, '').toLowerCase();
  if (!lookup[family].has(normalized)) {
    throw new ApiError(400, 'NotImplemented', `Unsupported RESTAPI version "${value.slice(0, 40)}". The following versions are supported: ${supportedList(family)}.`);
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
