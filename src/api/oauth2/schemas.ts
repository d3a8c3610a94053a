import { Type } from 'typebox';

/** The form of /api/oauth2/token. Extra fields are tolerated: clients send what their revision knows. */
export const TokenLoginSpec = Type.Object(
  {
    grant_type: Type.String({ maxLength: 64, description: 'password, refresh_token or authorization_code (case-insensitive); vbr_token is not supported.' }),
    username: Type.Optional(Type.String({ maxLength: 256 })),
    password: Type.Optional(Type.String({ maxLength: 1024, format: 'password' })),
    refresh_token: Type.Optional(Type.String({ maxLength: 4096 })),
    code: Type.Optional(Type.String({ maxLength: 4096 })),
    use_short_term_refresh: Type.Optional(Type.Union([Type.Boolean(), Type.String({ maxLength: 8 })])),
    vbr_token: Type.Optional(Type.String({ maxLength: 8192 })),
  },
  { additionalProperties: true },
);

export const TokenModel = Type.Object({
  access_token: Type.String(),
  token_type: Type.String(),
  refresh_token: Type.String(),
  expires_in: Type.Integer(),
  '.issued': Type.String({ format: 'date-time' }),
  '.expires': Type.String({ format: 'date-time' }),
});

export const AuthorizationCodeModel = Type.Object({ code: Type.String() });
