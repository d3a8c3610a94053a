import type { ReplyShape } from '../shapes.js';

/** Delete Backup: 1.2-rev1 documents 200 with the session, the 1.3 documents 201. */
export const DELETE_BACKUP: ReplyShape = { status: { '1.2-rev1': 200, '1.3-rev0': 201 } };
