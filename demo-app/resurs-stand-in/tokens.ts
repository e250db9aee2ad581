/** Merchant JWTs: signing them and verifying them quickly. */
import { randomUUID } from 'node:crypto';
import { TokenExpiredError, sign, verify, type JwtPayload } from 'jsonwebtoken';

/** Claims the stand-in puts in (and reads from) a merchant JWT. */
export interface MerchantClaims {
  scope?: string;
  client_id?: string;
  /** When present, the token is valid for this store only. */
  storeId?: string;
  exp: number;
}

/** What to put in a token made by {@link TokenAuthority.issue}. */
export interface IssueClaims {
  expiresInSeconds?: number;
  storeId?: string;
  scope?: string;
  clientId?: string;
}

/** Result of checking a bearer token. */
export type Verification = { ok: true; claims: MerchantClaims } | { ok: false; message: string };

const CACHE_LIMIT = 1024;

/** Signs merchant JWTs (HS256) and verifies them, caching good verifications per token string until `exp`. */
export class TokenAuthority {
  private readonly cache = new Map<string, MerchantClaims>();

  constructor(
    private readonly secret: string,
    private readonly defaultClientId: string,
    private readonly defaultTtlSeconds: number,
  ) {}

  /** Sign a token; a negative `expiresInSeconds` gives one that is already expired. */
  issue(claims: IssueClaims = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, string | number> = {
      scope: claims.scope ?? 'mock-merchant-api',
      client_id: claims.clientId ?? this.defaultClientId,
      iat: now,
      exp: now + (claims.expiresInSeconds ?? this.defaultTtlSeconds),
      jti: randomUUID(),
    };
    if (claims.storeId !== undefined) payload.storeId = claims.storeId;
    return sign(payload, this.secret, { algorithm: 'HS256', noTimestamp: true });
  }

  /** Check an `Authorization` header value ("Bearer <jwt>"). */
  verifyHeader(header: string | undefined): Verification {
    if (!header) return { ok: false, message: 'Missing Authorization header' };
    const match = /^Bearer +(\S+)$/i.exec(header);
    if (!match) return { ok: false, message: 'Authorization must be "Bearer <token>"' };
    return this.verify(match[1]);
  }

  /** Check a raw JWT. */
  verify(token: string): Verification {
    const cached = this.cache.get(token);
    if (cached) {
      if (cached.exp * 1000 > Date.now()) return { ok: true, claims: cached };
      this.cache.delete(token);
      return { ok: false, message: 'Token expired' };
    }
    let decoded: string | JwtPayload;
    try {
      decoded = verify(token, this.secret, { algorithms: ['HS256'] });
    } catch (error) {
      if (error instanceof TokenExpiredError) return { ok: false, message: 'Token expired' };
      return { ok: false, message: 'Invalid token' };
    }
    if (typeof decoded === 'string' || typeof decoded.exp !== 'number') return { ok: false, message: 'Token has no expiry' };
    const claims: MerchantClaims = { exp: decoded.exp };
    if (typeof decoded.scope === 'string') claims.scope = decoded.scope;
    if (typeof decoded.client_id === 'string') claims.client_id = decoded.client_id;
    if (typeof decoded.storeId === 'string') claims.storeId = decoded.storeId;
    if (this.cache.size >= CACHE_LIMIT) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(token, claims);
    return { ok: true, claims };
  }
}
