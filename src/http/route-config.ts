import type { Role } from '../auth/roles.js';

/** Which API a route belongs to: it decides version negotiation and the error shape. */
export type ApiFamily = 'vbr' | 'vba';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Unset for routes outside both APIs (OpenAPI document, docs UI). */
    apiFamily?: ApiFamily;
    /** Least role that may call the route; `public` needs no token. */
    access?: Role | 'public';
  }
  interface FastifyRequest {
    principal?: import('../auth/principal.js').Principal;
    apiRevision?: string;
  }
}

export {};
