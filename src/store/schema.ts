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

/** One sealed secret (src/vault): the owning record, the field, and which master key wraps it. */
export interface VaultSecretsTable {
  owner_kind: string;
  owner_id: string;
  /** The owner's type at sealing time; bound into the seal, so it cannot be changed here alone. */
  owner_type: string;
  field: string;
  sealed_value: string;
  /** Duplicates the id inside `sealed_value` so a rotation finds what is left with an index. */
  master_key_id: string;
  updated_at: string;
}

/** Credentials records (Standard and Linux); secrets live in vault_secrets. */
export interface CredentialsTable {
  id: string;
  type: string;
  username: string;
  username_key: string;
  description: string;
  description_key: string;
  /** `tag` (1.1) / `uniqueId` (1.2). */
  unique_id: string;
  /** Enforces the duplicate rule with a unique index (see api/credentials/service.ts). */
  dedup_key: string;
  ssh_port: number;
  elevate_to_root: number;
  add_to_sudoers: number;
  use_su: number;
  creation_time: string;
}

export interface CloudCredentialsTable {
  id: string;
  type: string;
  /** What the list orders and filters as "Name": access key, storage account or connection name. */
  name: string;
  name_key: string;
  description: string;
  description_key: string;
  unique_id: string;
  dedup_key: string;
  access_key: string | null;
  account: string | null;
  connection_name: string | null;
  deployment_type: string | null;
  region: string | null;
  tenant_id: string | null;
  application_id: string | null;
  /** `secret` or `certificate`: how an AzureCompute application signs in. */
  auth_method: string | null;
  certificate_thumbprint: string | null;
  creation_time: string;
}

export interface EncryptionPasswordsTable {
  id: string;
  hint: string;
  hint_key: string;
  unique_id: string;
  dedup_key: string;
  /** argon2id of the password: checks a password without opening the sealed copy. */
  verifier: string;
  modification_time: string;
}

/** Managed servers (api/managed-servers): the hosts Rampart talks to, with their pinned identities. */
export interface ManagedServersTable {
  id: string;
  /** WindowsHost, LinuxHost or ViHost. */
  type: string;
  name: string;
  name_key: string;
  description: string;
  description_key: string;
  credentials_id: string | null;
  /** Permanent or SingleUse (Linux). */
  credentials_storage_type: string;
  /** Available or Unavailable. */
  status: string;
  /** Why the last check made the server Unavailable. */
  status_reason: string | null;
  /** 1 for the backup server itself (this machine): never removed. */
  is_backup_server: number;
  vi_host_type: string | null;
  /** ViHost: the vSphere port; WindowsHost: the TLS port checked. */
  port: number | null;
  /** JSON of LinuxHostSSHSettingsModel / WindowsHostPortsModel. */
  ssh_settings: string | null;
  network_settings: string | null;
  /** The pinned SSH host key: wire blob in base64, its algorithm and SHA256 fingerprint. */
  ssh_host_key: string | null;
  ssh_host_key_algorithm: string | null;
  ssh_fingerprint: string | null;
  /** The pinned TLS certificate: SHA-1 thumbprint and SHA-256 (hex) of the leaf. */
  certificate_thumbprint: string | null;
  certificate_sha256: string | null;
  os_name: string | null;
  kernel: string | null;
  architecture: string | null;
  root_free_bytes: number | string | null;
  root_total_bytes: number | string | null;
  facts_checked_at: string | null;
  /** JSON of the non-secret part of single-use credentials (user name, port, elevation); secrets are in vault_secrets. */
  single_use_login: string | null;
  creation_time: string;
  updated_at: string;
}

/** Backup repositories (api/repositories); the type-specific settings are JSON, the figures come from the refresher. */
export interface RepositoriesTable {
  id: string;
  type: string;
  name: string;
  name_key: string;
  description: string;
  description_key: string;
  unique_id: string;
  host_id: string | null;
  host_name: string | null;
  /** Folder, share path or bucket/folder: what the list shows and filters as "Path". */
  path: string | null;
  path_key: string | null;
  /** JSON of the type-specific part of the model (1.1 spellings). */
  settings: string;
  /** JSON of RepositoryAccessPermissionsModel. */
  access: string;
  capacity_gb: number;
  free_gb: number;
  used_gb: number;
  is_online: number;
  /** filesystem, sosapi, consumptionLimit or unknown. */
  capacity_source: string;
  measured_at: string | null;
  /** Why the last measurement failed (the repository is then offline). */
  state_error: string | null;
  creation_time: string;
}

export interface ScaleOutRepositoriesTable {
  id: string;
  name: string;
  name_key: string;
  description: string;
  description_key: string;
  unique_id: string;
  /** JSON of the placement policy, performance-tier advanced settings, capacity and archive tier settings. */
  settings: string;
  access: string;
  creation_time: string;
}

/** A repository's membership of a scale-out repository, and its extent modes. */
export interface ScaleOutExtentsTable {
  repository_id: string;
  scale_out_id: string;
  /** performance, capacity or archive. */
  tier: string;
  position: number;
  sealed: number;
  maintenance: number;
  evacuating: number;
}

/** Sessions that are using a repository while they run (what keeps maintenance mode pending). */
export interface RepositoryUsageTable {
  session_id: string;
  repository_id: string;
}

/** Backup proxies (api/proxies): one per managed server, named after it. */
export interface ProxiesTable {
  id: string;
  type: string;
  /** The host's name, copied: a managed server's name never changes, and list order and filters run in SQL. */
  name: string;
  name_key: string;
  description: string;
  description_key: string;
  /** Unique: a server is one proxy. */
  host_id: string;
  /** JSON of ProxyServerSettingsModel without hostId (1.1 spellings). */
  settings: string;
  creation_time: string;
  updated_at: string;
}

/** Backup jobs (api/jobs). */
export interface JobsTable {
  id: string;
  type: string;
  name: string;
  name_key: string;
  description: string;
  description_key: string;
  is_disabled: number;
  is_high_priority: number;
  /** Copied from the settings so states filter and order in SQL. */
  repository_id: string;
  objects_count: number;
  /** JSON of the job's settings in the 1.1 spellings (api/jobs/model.ts). */
  settings: string;
  next_run: string | null;
  last_run: string | null;
  last_result: string;
  last_session_id: string | null;
  /** Retries of a failed automatic run done so far (schedule.retry); 0 after a success. */
  retry_attempt: number;
  creation_time: string;
  updated_at: string;
}

/** The lease of a running backup session: exactly one node runs it; a lapsed lease means its node died. */
export interface JobRunsTable {
  session_id: string;
  job_id: string;
  node_id: string;
  lease_until: string;
  /** JSON list of {hostId, vmId, snapshotId} taken and not yet removed, for cleanup after a crash. */
  snapshots: string;
}

/** A job's backup chain in one repository; kept when the job is deleted (job_id stays, as Veeam keeps it). */
export interface BackupsTable {
  id: string;
  job_id: string | null;
  name: string;
  name_key: string;
  platform_name: string;
  platform_id: string;
  policy_tag: string;
  repository_id: string;
  creation_time: string;
}

export interface BackupObjectsTable {
  id: string;
  backup_id: string;
  name: string;
  name_key: string;
  type: string;
  platform_name: string;
  platform_id: string;
  /** The vSphere managed object reference (vm-42). */
  object_id: string;
  vi_type: string;
  path: string;
}

export interface RestorePointsTable {
  id: string;
  backup_id: string;
  backup_object_id: string;
  name: string;
  name_key: string;
  platform_name: string;
  platform_id: string;
  creation_time: string;
  /** Full or Increment. */
  type: string;
  session_id: string | null;
  /** Where the restore point's manifest lives in the repository (chunk store path). */
  location: string;
}

export interface RestorePointDisksTable {
  restore_point_id: string;
  uid: string;
  position: number;
  name: string;
  type: string;
  capacity: number;
  state: string;
  /** JSON {chunks, newChunks, bytesRead, bytesStored}. */
  stats: string;
}

/** An instant recovery mount (restore/instant-recovery): state and what it made, for unmount and restart. */
export interface InstantRecoveryMountsTable {
  id: string;
  /** 'vm' or 'fcd'. */
  kind: string;
  session_id: string;
  state: string;
  vm_name: string;
  name_key: string;
  /** The spec as the client posted it (JSON), echoed in the mount model. */
  spec: string;
  error_message: string | null;
  /** JSON MountRecord (mover/instant-recovery.ts). */
  record: string | null;
  host_name: string;
  creation_time: string;
}

export interface RecoveryTokensTable {
  id: string;
  name: string;
  name_key: string;
  /** SHA-256 (hex) of the token: the token itself is shown once and never stored. */
  digest: string;
  /** JSON array of the backup ids the token may read. */
  backup_ids: string;
  expiration_date: string;
  creation_time: string;
}

export interface HelperAppliancesTable {
  id: string;
  cloud_credentials_id: string;
  subscription_id: string;
  location: string;
  /** The AzureLinuxHelperApplianceSpec as stored (JSON, without `type`). */
  spec: string;
  vm_name: string;
  /** Deploying, Deployed, Failed or Removing. */
  state: string;
  /** JSON: the Azure resource ids the deployment created, so removal deletes exactly those. */
  resources: string | null;
  creation_time: string;
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
  vault_secrets: VaultSecretsTable;
  credentials: CredentialsTable;
  cloud_credentials: CloudCredentialsTable;
  encryption_passwords: EncryptionPasswordsTable;
  managed_servers: ManagedServersTable;
  repositories: RepositoriesTable;
  scale_out_repositories: ScaleOutRepositoriesTable;
  scale_out_extents: ScaleOutExtentsTable;
  repository_usage: RepositoryUsageTable;
  proxies: ProxiesTable;
  jobs: JobsTable;
  job_runs: JobRunsTable;
  backups: BackupsTable;
  backup_objects: BackupObjectsTable;
  restore_points: RestorePointsTable;
  restore_point_disks: RestorePointDisksTable;
  instant_recovery_mounts: InstantRecoveryMountsTable;
  recovery_tokens: RecoveryTokensTable;
  helper_appliances: HelperAppliancesTable;
}
