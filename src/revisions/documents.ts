import { VBR_REVISIONS, type VbrRevision } from '../http/api-version.js';

/**
 * The Veeam Backup & Replication REST API documents Rampart follows. Each accepted
 * revision answers in the shape of exactly one of them.
 */
export const VEEAM_DOCUMENTS = ['1.1-rev0', '1.2-rev1', '1.3-rev0', '1.3-rev1', '1.3-rev2'] as const;
export type VeeamDocument = (typeof VEEAM_DOCUMENTS)[number];

/**
 * Which document each accepted revision follows. Revisions Veeam published no document
 * for take the nearest documented one: 1.0-rev1/rev2 and 1.1-rev1/rev2 the 1.1-rev0 shapes
 * (VBR 12.0/12.1 kept them); 1.2-rev0 the 1.2-rev1 shapes, because 1.2-rev0 is where the
 * renames 1.2-rev1 documents (tag → uniqueId, activityId → jobId) were introduced.
 */
export const DOCUMENT_OF: Record<VbrRevision, VeeamDocument> = {
  '1.0-rev1': '1.1-rev0',
  '1.0-rev2': '1.1-rev0',
  '1.1-rev0': '1.1-rev0',
  '1.1-rev1': '1.1-rev0',
  '1.1-rev2': '1.1-rev0',
  '1.2-rev0': '1.2-rev1',
  '1.2-rev1': '1.2-rev1',
  '1.3-rev0': '1.3-rev0',
  '1.3-rev1': '1.3-rev1',
  '1.3-rev2': '1.3-rev2',
};

const accepted = new Set<string>(VBR_REVISIONS);

function isVbrRevision(revision: string): revision is VbrRevision {
  return accepted.has(revision);
}

/**
 * The document a request's revision follows. Routes outside the Backup & Replication
 * family (no negotiated revision) get the first document, as the project's base.
 */
export function documentOf(revision: string | undefined): VeeamDocument {
  return revision !== undefined && isVbrRevision(revision) ? DOCUMENT_OF[revision] : VEEAM_DOCUMENTS[0];
}

/** True when `document` is `minimum` or a later one. */
export function documentAtLeast(document: VeeamDocument, minimum: VeeamDocument): boolean {
  return VEEAM_DOCUMENTS.indexOf(document) >= VEEAM_DOCUMENTS.indexOf(minimum);
}

/** True when the request's revision follows `minimum` or a later document. */
export function followsAtLeast(revision: string | undefined, minimum: VeeamDocument): boolean {
  return documentAtLeast(documentOf(revision), minimum);
}
