import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { ApiError } from '../http/errors.js';
import type { Principal } from './principal.js';
import { isRole, type Role } from './roles.js';
import type { RevocationList } from './revocations.js';

interface CachedToken {
  principal: Principal;
  expiresAtMs: number;
}

const CACHE_LIMIT = 10_000;

/**
 * Signs and checks access tokens (HS512 JWTs). A token checked once is remembered
 * (bounded cache), so the common request costs a map lookup plus the in-memory
 * revocation check, never a database round trip.
 */
export class AccessTokens {
  private readonly cache = new Map<string, CachedToken>();

  constructor(
    private readonly key: Uint8Array,
    private readonly revocations: RevocationList,
    private readonly ttlSeconds: number,
  ) {}

  async issue(user: { id: string; name: string; role: Role }, familyId: string, now = new Date()): Promise<{ token: string; expiresAt: Date }> {
    const iat = Math.floor(now.getTime() / 1000);
    const expiresAt = new Date(now.getTime() + this.ttlSeconds * 1000);
    const token = await new SignJWT({ unique_name: user.name, role: user.role, fid: familyId, ims: now.getTime() })
      .setProtectedHeader({ alg: 'HS512', typ: 'JWT' })
      .setSubject(user.id)
      .setAudience('access')
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .setJti(randomUUID())
      .sign(this.key);
    return { token, expiresAt };
  }

  /** Returns who the token proves, or throws the 401 whose errorCode says why. */
  async verify(token: string): Promise<Principal> {
    const now = Date.now();
    let cached = this.cache.get(token);
    if (cached && cached.expiresAtMs <= now) {
      this.cache.delete(token);
      throw new ApiError(401, 'ExpiredToken', 'The access token has expired. Sign in again or use the refresh token.');
    }
    if (!cached) {
      cached = await this.verifySignature(token);
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(token, cached);
    }
    if (this.revocations.isRevoked(cached.principal)) {
      throw new ApiError(401, 'InvalidToken', 'The access token was revoked (signed out, password or role changed).');
    }
    return cached.principal;
  }

  private async verifySignature(token: string): Promise<CachedToken> {
    try {
      const { payload } = await jwtVerify(token, this.key, { audience: 'access', algorithms: ['HS512'] });
      const role = String(payload.role ?? '');
      if (!payload.sub || typeof payload.fid !== 'string' || !isRole(role) || typeof payload.exp !== 'number') {
        throw new ApiError(401, 'InvalidToken', 'The access token is not valid.');
      }
      return {
        principal: {
          userId: payload.sub,
          userName: String(payload.unique_name ?? ''),
          role,
          familyId: payload.fid,
          issuedAtSeconds: typeof payload.ims === 'number' ? payload.ims / 1000 : (payload.iat ?? 0),
        },
        expiresAtMs: payload.exp * 1000,
      };
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof joseErrors.JWTExpired) {
        throw new ApiError(401, 'ExpiredToken', 'The access token has expired. Sign in again or use the refresh token.');
      }
      throw new ApiError(401, 'InvalidToken', 'The access token is not valid.');
    }
  }
}
