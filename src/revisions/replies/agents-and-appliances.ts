import type { ReplyShape } from '../shapes.js';

/** POST /api/v1/agents/recoveryTokens: 200 until 1.3-rev1, 201 from 1.3-rev2. */
export const CREATE_RECOVERY_TOKEN: ReplyShape = { status: { '1.1-rev0': 200, '1.3-rev2': 201 } };

/** DELETE /api/v1/cloudCredentials/{id}/helperAppliances/{applianceId}: 204 (no body) in 1.1-rev0, 201 SessionModel from 1.2-rev1. */
export const REMOVE_HELPER_APPLIANCE: ReplyShape = { status: { '1.1-rev0': 204, '1.2-rev1': 201 } };
