import type { ReplyShape } from '../shapes.js';

/** POST /api/v1/agents/recoveryTokens: 200 until 1.3-rev1, 201 from 1.3-rev2. */
export const CREATE_RECOVERY_TOKEN: ReplyShape = { status: { '1.1-rev0': 200, '1.3-rev2': 201 } };
