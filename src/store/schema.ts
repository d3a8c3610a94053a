
/**
 * Table shapes as Kysely sees them. Portable across SQLite and PostgreSQL:
 * ids are uuid text, instants are ISO-8601 UTC text (fixed width, so they sort
 * and compare as text), booleans are 0/1 integers.
 */
export interface UsersTable {
  id: string;
  name: string;
  /** Lower-cased name: user names are case-insensitive, as on Windows. */
  name_key: string;
  role: string;
  password_hash: string;
  created_at: string;
  /** Access tokens issued before this instant are refused (password change, role change, removal). */
  tokens_valid_after: string;
}

export interface TokenFamiliesTable {
  id: string;
  user_id: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  family_id: string;
  user_id: string;
  issued_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface AuthorizationCodesTable {
  code_hash: string;
  user_id: string;
  expires_at: string;
  used_at: string | null;
}

export interface LoginFailuresTable {
  key: string;
  failures: number;
  last_failure_at: string;
  locked_until: string | null;
}

export interface SessionsTable {
  id: string;
  name: string;
  activity_id: string;
  session_type: string;
  state: string;
  creation_time: string;
  end_time: string | null;
  progress_percent: number;
  result: string;
  result_message: string | null;
  is_canceled: number;
  resource_id: string | null;
  resource_reference: string | null;
  parent_session_id: string | null;
  usn: number;
  node_id: string;
  created_by: string | null;
}

export interface SessionLogsTable {
  session_id: string;
  record_id: number;
  status: string;
  start_time: string;
  update_time: string;
  title: string;
  description: string;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface Database {
  users: UsersTable;
  token_families: TokenFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  authorization_codes: AuthorizationCodesTable;
  login_failures: LoginFailuresTable;
  sessions: SessionsTable;
  session_logs: SessionLogsTable;
  settings: SettingsTable;
}

