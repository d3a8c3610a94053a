import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Store } from '../store/database.js';
import { ApiError, badRequest } from '../http/errors.js';
import type { AccessTokens } from './access-tokens.js';
import { LoginThrottle } from './login-throttle.js';
import { verifyPassword } from './passwords.js';
import type { Principal } from './principal.js';
import type { RevocationList } from './revocations.js';
import type { Role } from './roles.js';
import type { UserDirectory } from './users.js';

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresInSeconds: number;
  issuedAt: Date;
  expiresAt: Date;
  user: { id: string; name: string; role: Role };
}

export interface LoginSettings {
  refreshTokenTtlSeconds: number;
  accessTokenTtlSeconds: number;
  authorizationCodeTtlSeconds: number;
}

const BAD_CREDENTIALS = 'Invalid user name or password.';
const BAD_REFRESH = 'The refresh token is not valid: it is unknown, expired, revoked or was already used. Sign in with the password grant.';
const BAD_CODE = 'The authorization code is not valid: it is unknown, expired or was already used.';

const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');
const newSecret = () => randomBytes(32).toString('base64url');

/**
 * The grants of /api/oauth2/token and /api/v1/token. Refresh tokens and
 * authorization codes are stored only as SHA-256 digests and are single-use; a
 * reused refresh token revokes the whole login it came from (RFC 6819 §5.2.2.3).
 */
export class LoginService {
  constructor(
    private readonly store: Store,
    private readonly users: UserDirectory,
    private readonly accessTokens: AccessTokens,
    private readonly revocations: RevocationList,
    private readonly throttle: LoginThrottle,
    private readonly settings: LoginSettings,
  ) {}

  async passwordGrant(userName: string | undefined, password: string | undefined, address: string, shortTermRefresh: boolean): Promise<IssuedTokens> {
    if (!userName || password === undefined || password === '') {
      throw badRequest('The password grant needs both "username" and "password".');
    }
    const keys = LoginThrottle.keys(userName, address);
    // The attempt is counted before the password is checked, so parallel guesses cannot outrun the count.
    const verdict = await this.throttle.reserve(keys);
    if (verdict.refused) {
      const seconds = Math.max(1, Math.ceil((verdict.retryAfter.getTime() - Date.now()) / 1000));
      const wait = seconds >= 60 ? `${Math.ceil(seconds / 60)} minute(s)` : `${seconds} second(s)`;
      const from = verdict.scope === 'address' ? ' from this address' : '';
      throw new ApiError(401, 'AccessDenied', `Too many failed sign-in attempts${from}. Try again in ${wait}.`);
    }
    if (verdict.delayMs > 0) await new Promise((r) => setTimeout(r, verdict.delayMs));
    const user = await this.users.findByName(userName);
    const ok = await verifyPassword(user?.passwordHash, password);
    if (!user || !ok) throw new ApiError(401, 'AccessDenied', BAD_CREDENTIALS);
    await this.throttle.recordSuccess(keys);
    return this.startFamily(user, shortTermRefresh);
  }

  async refreshGrant(refreshToken: string | undefined): Promise<IssuedTokens> {
    if (!refreshToken) throw badRequest('The refresh_token grant needs "refresh_token".');
    const hash = digest(refreshToken);
    const now = new Date();
    const row = await this.store.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
    if (!row) throw new ApiError(401, 'InvalidToken', BAD_REFRESH);
    // Claim the token atomically: of two concurrent uses, exactly one wins.
    const claimed = await this.store.db
      .updateTable('refresh_tokens')
      .set({ used_at: now.toISOString() })
      .where('token_hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) {
      await this.revokeFamily(row.family_id, 'refresh token reused');
      throw new ApiError(401, 'InvalidToken', BAD_REFRESH);
    }
    const family = await this.store.db.selectFrom('token_families').selectAll().where('id', '=', row.family_id).executeTakeFirst();
    if (!family || family.revoked_at || Date.parse(row.expires_at) <= now.getTime()) {
      throw new ApiError(401, 'InvalidToken', BAD_REFRESH);
    }
    const user = await this.users.findById(row.user_id);
    // A password or role change after this token was issued ends the login.
    if (!user || Date.parse(row.issued_at) < Date.parse(user.tokensValidAfter)) {
      throw new ApiError(401, 'InvalidToken', BAD_REFRESH);
    }
    const shortTerm = Date.parse(row.expires_at) - Date.parse(row.issued_at) < this.settings.refreshTokenTtlSeconds * 1000;
    return this.issue(user, row.family_id, shortTerm, now);
  }

  async codeGrant(code: string | undefined): Promise<IssuedTokens> {
    if (!code) throw badRequest('The authorization_code grant needs "code".');
    const hash = digest(code);
    const now = new Date();
    const row = await this.store.db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', hash).executeTakeFirst();
    const claimed = await this.store.db
      .updateTable('authorization_codes')
      .set({ used_at: now.toISOString() })
      .where('code_hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (!row || Number(claimed.numUpdatedRows) === 0 || Date.parse(row.expires_at) <= now.getTime()) {
      throw new ApiError(401, 'InvalidToken', BAD_CODE);
    }
    const user = await this.users.findById(row.user_id);
    if (!user) throw new ApiError(401, 'InvalidToken', BAD_CODE);
    return this.startFamily(user, false);
  }

  async createAuthorizationCode(principal: Principal): Promise<{ code: string; expiresAt: Date }> {
    const code = newSecret();
    const expiresAt = new Date(Date.now() + this.settings.authorizationCodeTtlSeconds * 1000);
    await this.store.db
      .insertInto('authorization_codes')
      .values({ code_hash: digest(code), user_id: principal.userId, expires_at: expiresAt.toISOString(), used_at: null })
      .execute();
    return { code, expiresAt };
  }

  /** Logout: the access token and every refresh token of this login stop working. */
  async logout(principal: Principal): Promise<void> {
    await this.revokeFamily(principal.familyId, 'signed out');
  }

  private async revokeFamily(familyId: string, reason: string): Promise<void> {
    const now = new Date().toISOString();
    await this.store.db.updateTable('token_families').set({ revoked_at: now, revoked_reason: reason }).where('id', '=', familyId).where('revoked_at', 'is', null).execute();
    const family = await this.store.db.selectFrom('token_families').select('expires_at').where('id', '=', familyId).executeTakeFirst();
    this.revocations.markFamilyRevoked(familyId, family ? Date.parse(family.expires_at) : Date.now() + 86_400_000);
  }

  private async startFamily(user: { id: string; name: string; role: Role }, shortTerm: boolean): Promise<IssuedTokens> {
    const now = new Date();
    const familyId = randomUUID();
    await this.store.db
      .insertInto('token_families')
      .values({
        id: familyId,
        user_id: user.id,
        created_at: now.toISOString(),
        // The family outlives any one refresh token: each refresh extends the login.
        expires_at: new Date(now.getTime() + 2 * this.settings.refreshTokenTtlSeconds * 1000).toISOString(),
        revoked_at: null,
        revoked_reason: null,
      })
      .execute();
    return this.issue(user, familyId, shortTerm, now);
  }

  private async issue(user: { id: string; name: string; role: Role }, familyId: string, shortTerm: boolean, now: Date): Promise<IssuedTokens> {
    const access = await this.accessTokens.issue(user, familyId, now);
    const refreshToken = newSecret();
    // "Lifetime of the short-term refresh token is the access token lifetime plus 15 minutes."
    const refreshTtl = shortTerm ? this.settings.accessTokenTtlSeconds + 900 : this.settings.refreshTokenTtlSeconds;
    await this.store.db
      .insertInto('refresh_tokens')
      .values({
        token_hash: digest(refreshToken),
        family_id: familyId,
        user_id: user.id,
        issued_at: now.toISOString(),
        expires_at: new Date(now.getTime() + refreshTtl * 1000).toISOString(),
        used_at: null,
      })
      .execute();
    await this.store.db
      .updateTable('token_families')
      .set({ expires_at: new Date(now.getTime() + 2 * this.settings.refreshTokenTtlSeconds * 1000).toISOString() })
      .where('id', '=', familyId)
      .execute();
    return {
      accessToken: access.token,
      refreshToken,
      expiresInSeconds: this.settings.accessTokenTtlSeconds,
      issuedAt: now,
      expiresAt: access.expiresAt,
      user,
    };
  }
}
