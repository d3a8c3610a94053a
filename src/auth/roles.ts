/**
 * Roles, least to most powerful. Viewer reads (never a secret), Operator may also
 * run and stop sessions, Administrator may do everything.
 */
export const ROLES = ['Viewer', 'Operator', 'Administrator'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function roleAllows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** Role names as Veeam Backup for AWS reports them in `roleName`. */
export function awsRoleName(role: Role): string {
  return `Portal ${role}`;
}
