import { type Kysely, type Migration, type MigrationProvider } from 'kysely';

/**
 * Migrations live in code (not files found at run time) so that the same list
 * runs under tsx, a bundle, SQLite and PostgreSQL. Append only: never edit a
 * migration that has shipped.
 */
const migrations: Record<string, Migration> = {
  '0001_foundation': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('tokens_valid_after', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('token_families')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_reason', 'text')
        .execute();
      await db.schema.createIndex('token_families_revoked').on('token_families').column('revoked_at').execute();
      await db.schema
        .createTable('refresh_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('family_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
      await db.schema
        .createTable('authorization_codes')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
      await db.schema
        .createTable('login_failures')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('last_failure_at', 'text', (c) => c.notNull())
        .addColumn('locked_until', 'text')
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('activity_id', 'text', (c) => c.notNull())
        .addColumn('session_type', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addColumn('end_time', 'text')
        .addColumn('progress_percent', 'integer', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('result_message', 'text')
        .addColumn('is_canceled', 'integer', (c) => c.notNull())
        .addColumn('resource_id', 'text')
        .addColumn('resource_reference', 'text')
        .addColumn('parent_session_id', 'text')
        .addColumn('usn', 'integer', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .execute();
      await db.schema.createIndex('sessions_creation_time').on('sessions').columns(['creation_time', 'id']).execute();
      await db.schema.createIndex('sessions_type').on('sessions').columns(['session_type', 'creation_time']).execute();
      await db.schema.createIndex('sessions_state').on('sessions').column('state').execute();
      await db.schema
        .createTable('session_logs')
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('record_id', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('start_time', 'text', (c) => c.notNull())
        .addColumn('update_time', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('session_logs_pk', ['session_id', 'record_id'])
        .execute();
      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
    async down() {
      throw new Error('downgrades are not supported');
    },
  },
  '0002_vault': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('vault_secrets')
        .addColumn('owner_kind', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('owner_type', 'text', (c) => c.notNull())
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('sealed_value', 'text', (c) => c.notNull())
        .addColumn('master_key_id', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('vault_secrets_pk', ['owner_kind', 'owner_id', 'field'])
        .execute();
      await db.schema.createIndex('vault_secrets_master_key').on('vault_secrets').column('master_key_id').execute();
      await db.schema
        .createTable('credentials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('username_key', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('description_key', 'text', (c) => c.notNull())
        .addColumn('unique_id', 'text', (c) => c.notNull())
        .addColumn('dedup_key', 'text', (c) => c.notNull().unique())
        .addColumn('ssh_port', 'integer', (c) => c.notNull())
        .addColumn('elevate_to_root', 'integer', (c) => c.notNull())
        .addColumn('add_to_sudoers', 'integer', (c) => c.notNull())
        .addColumn('use_su', 'integer', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('credentials_username').on('credentials').columns(['username_key', 'id']).execute();
      await db.schema.createIndex('credentials_creation_time').on('credentials').column('creation_time').execute();
      await db.schema
        .createTable('cloud_credentials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('description_key', 'text', (c) => c.notNull())
        .addColumn('unique_id', 'text', (c) => c.notNull())
        .addColumn('dedup_key', 'text', (c) => c.notNull().unique())
        .addColumn('access_key', 'text')
        .addColumn('account', 'text')
        .addColumn('connection_name', 'text')
        .addColumn('deployment_type', 'text')
        .addColumn('region', 'text')
        .addColumn('tenant_id', 'text')
        .addColumn('application_id', 'text')
        .addColumn('auth_method', 'text')
        .addColumn('certificate_thumbprint', 'text')
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('cloud_credentials_name').on('cloud_credentials').columns(['name_key', 'id']).execute();
      await db.schema
        .createTable('encryption_passwords')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('hint', 'text', (c) => c.notNull())
        .addColumn('hint_key', 'text', (c) => c.notNull())
        .addColumn('unique_id', 'text', (c) => c.notNull())
        .addColumn('dedup_key', 'text', (c) => c.notNull().unique())
        .addColumn('verifier', 'text', (c) => c.notNull())
        .addColumn('modification_time', 'text', (c) => c.notNull())
        .execute();
    },
    async down() {
      throw new Error('downgrades are not supported');
    },
  },
  '0003_managed_servers': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('managed_servers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('description_key', 'text', (c) => c.notNull())
        .addColumn('credentials_id', 'text')
        .addColumn('credentials_storage_type', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_reason', 'text')
        .addColumn('is_backup_server', 'integer', (c) => c.notNull())
        .addColumn('vi_host_type', 'text')
        .addColumn('port', 'integer')
        .addColumn('ssh_settings', 'text')
        .addColumn('network_settings', 'text')
        .addColumn('ssh_host_key', 'text')
        .addColumn('ssh_host_key_algorithm', 'text')
        .addColumn('ssh_fingerprint', 'text')
        .addColumn('certificate_thumbprint', 'text')
        .addColumn('certificate_sha256', 'text')
        .addColumn('os_name', 'text')
        .addColumn('kernel', 'text')
        .addColumn('architecture', 'text')
        .addColumn('root_free_bytes', 'bigint')
        .addColumn('root_total_bytes', 'bigint')
        .addColumn('facts_checked_at', 'text')
        .addColumn('single_use_login', 'text')
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('managed_servers_credentials').on('managed_servers').column('credentials_id').execute();
      await db.schema.createIndex('managed_servers_type').on('managed_servers').columns(['type', 'name_key']).execute();
    },
    async down() {
      throw new Error('downgrades are not supported');
    },
  },
  '0004_repositories': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('repositories')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('description_key', 'text', (c) => c.notNull())
        .addColumn('unique_id', 'text', (c) => c.notNull())
        .addColumn('host_id', 'text')
        .addColumn('host_name', 'text')
        .addColumn('path', 'text')
        .addColumn('path_key', 'text')
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('access', 'text', (c) => c.notNull())
        .addColumn('capacity_gb', 'double precision', (c) => c.notNull())
        .addColumn('free_gb', 'double precision', (c) => c.notNull())
        .addColumn('used_gb', 'double precision', (c) => c.notNull())
        .addColumn('is_online', 'integer', (c) => c.notNull())
        .addColumn('capacity_source', 'text', (c) => c.notNull())
        .addColumn('measured_at', 'text')
        .addColumn('state_error', 'text')
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('repositories_host').on('repositories').column('host_id').execute();
      await db.schema.createIndex('repositories_type').on('repositories').columns(['type', 'name_key']).execute();
      await db.schema
        .createTable('scale_out_repositories')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('description_key', 'text', (c) => c.notNull())
        .addColumn('unique_id', 'text', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('access', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('scale_out_extents')
        // Primary key on the repository: one repository belongs to at most one scale-out repository.
        .addColumn('repository_id', 'text', (c) => c.primaryKey())
        .addColumn('scale_out_id', 'text', (c) => c.notNull())
        .addColumn('tier', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('sealed', 'integer', (c) => c.notNull())
        .addColumn('maintenance', 'integer', (c) => c.notNull())
        .addColumn('evacuating', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('scale_out_extents_sobr').on('scale_out_extents').columns(['scale_out_id', 'tier', 'position']).execute();
      await db.schema
        .createTable('repository_usage')
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('repository_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('repository_usage_pk', ['repository_id', 'session_id'])
        .execute();
    },
    async down() {
      throw new Error('downgrades are not supported');
    },
  },
  '0005_proxies': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('proxies')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('description_key', 'text', (c) => c.notNull())
        .addColumn('host_id', 'text', (c) => c.notNull().unique())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('proxies_name').on('proxies').column('name_key').execute();
    },
    async down() {
      throw new Error('downgrades are not supported');
    },
  },
  '0006_jobs_and_backups': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('description_key', 'text', (c) => c.notNull())
        .addColumn('is_disabled', 'integer', (c) => c.notNull())
        .addColumn('is_high_priority', 'integer', (c) => c.notNull())
        .addColumn('repository_id', 'text', (c) => c.notNull())
        .addColumn('objects_count', 'integer', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('next_run', 'text')
        .addColumn('last_run', 'text')
        .addColumn('last_result', 'text', (c) => c.notNull())
        .addColumn('last_session_id', 'text')
        .addColumn('retry_attempt', 'integer', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('jobs_next_run').on('jobs').column('next_run').execute();
      await db.schema.createIndex('jobs_repository').on('jobs').column('repository_id').execute();
      await db.schema
        .createTable('job_runs')
        // One row per running backup session: the node that claimed it and until when its lease holds.
        .addColumn('session_id', 'text', (c) => c.primaryKey())
        .addColumn('job_id', 'text', (c) => c.notNull().unique())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('lease_until', 'text', (c) => c.notNull())
        .addColumn('snapshots', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('backups')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('job_id', 'text')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('platform_name', 'text', (c) => c.notNull())
        .addColumn('platform_id', 'text', (c) => c.notNull())
        .addColumn('policy_tag', 'text', (c) => c.notNull())
        .addColumn('repository_id', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('backups_job').on('backups').column('job_id').execute();
      await db.schema
        .createTable('backup_objects')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('backup_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('platform_name', 'text', (c) => c.notNull())
        .addColumn('platform_id', 'text', (c) => c.notNull())
        .addColumn('object_id', 'text', (c) => c.notNull())
        .addColumn('vi_type', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addUniqueConstraint('backup_objects_backup_object', ['backup_id', 'object_id'])
        .execute();
      await db.schema
        .createTable('restore_points')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('backup_id', 'text', (c) => c.notNull())
        .addColumn('backup_object_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('platform_name', 'text', (c) => c.notNull())
        .addColumn('platform_id', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text')
        .addColumn('location', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('restore_points_object').on('restore_points').columns(['backup_object_id', 'creation_time']).execute();
      await db.schema.createIndex('restore_points_backup').on('restore_points').column('backup_id').execute();
      await db.schema
        .createTable('restore_point_disks')
        .addColumn('restore_point_id', 'text', (c) => c.notNull())
        .addColumn('uid', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('capacity', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('stats', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('restore_point_disks_pk', ['restore_point_id', 'uid'])
        .execute();
    },
    async down() {
      throw new Error('downgrades are not supported');
    },
  },
  '0007_instant_recovery_mounts': {
    async up(db: Kysely<any>) {
      // One row per instant recovery mount (VM or first-class disk): its state, the spec as posted, and what it made (JSON) so unmount and restart can undo it.
      await db.schema
        .createTable('instant_recovery_mounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('vm_name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('error_message', 'text')
        .addColumn('record', 'text')
        .addColumn('host_name', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .execute();
    },
    async down() {
      throw new Error('downgrades are not supported');
    },
  },
  '0008_recovery_tokens_and_helper_appliances': {
    async up(db: Kysely<any>) {
      // Agent recovery tokens: only the SHA-256 digest of the secret is kept; backup_ids is a JSON array of backup ids.
      await db.schema
        .createTable('recovery_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull().unique())
        .addColumn('backup_ids', 'text', (c) => c.notNull())
        .addColumn('expiration_date', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .execute();
      // Azure helper appliances of an AzureCompute cloud credentials record, and what their deployment made (JSON).
      await db.schema
        .createTable('helper_appliances')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('cloud_credentials_id', 'text', (c) => c.notNull())
        .addColumn('subscription_id', 'text', (c) => c.notNull())
        .addColumn('location', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('vm_name', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('resources', 'text')
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('helper_appliances_credentials').on('helper_appliances').column('cloud_credentials_id').execute();
    },
    async down() {
      throw new Error('downgrades are not supported');
    },
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};

/** Used by tests to prove the list is applied in order on both dialects. */
export const migrationNames = Object.keys(migrations);
