import { badRequest } from '../../http/errors.js';
import type { IssuedTokens, LoginService } from '../../auth/login.js';

/** The grants both token endpoints accept. */
export const SUPPORTED_GRANTS = ['password', 'refresh_token', 'authorization_code'] as const;

/** The TokenModel fields both token endpoints answer with; each API writes its dates its own way. */
export function tokenFields(issued: IssuedTokens, formatDate: (date: Date) => string) {
  return {
    access_token: issued.accessToken,
    token_type: 'bearer',
    refresh_token: issued.refreshToken,
    expires_in: issued.expiresInSeconds,
    '.issued': formatDate(issued.issuedAt),
    '.expires': formatDate(issued.expiresAt),
  };
}

export interface GrantForm {
  grant_type: string;
  username?: string;
  password?: string;
  refresh_token?: string;
  code?: string;
  use_short_term_refresh?: boolean | string;
}

/**
 * Dispatches a token request by grant type, compared case-insensitively (1.3 clients
 * send `Password`). Shared by /api/oauth2/token and Backup for AWS's /api/v1/token.
 */
export function runGrant(login: LoginService, form: GrantForm, address: string, supported: readonly string[]): Promise<IssuedTokens> {
  const grant = form.grant_type.trim().toLowerCase();
  if (!supported.includes(grant)) {
    if (grant === 'vbr_token' || grant === 'mfa') {
      throw badRequest(`The grant type "${form.grant_type}" is not supported by this server. Use one of: ${supported.join(', ')}.`);
    }
    throw badRequest(`Unknown grant_type "${form.grant_type.slice(0, 40)}". Use one of: ${supported.join(', ')}.`);
  }
  switch (grant) {
    case 'password': {
      const shortTerm = form.use_short_term_refresh === true || String(form.use_short_term_refresh).toLowerCase() === 'true';
      return login.passwordGrant(form.username, form.password, address, shortTerm);
    }
    case 'refresh_token':
      return login.refreshGrant(form.refresh_token);
    default:
      return login.codeGrant(form.code);
  }
}
