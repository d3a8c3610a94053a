import type { Role } from './roles.js';

/** Who is calling, as proven by a verified access token. */
export interface Principal {
  userId: string;
  userName: string;
  role: Role;
  /** The login this token belongs to; logout and refresh reuse revoke it as a whole. */
  familyId: string;
  issuedAtSeconds: number;
}
