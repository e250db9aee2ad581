/**
 * Signed callback URLs: `?ref=<orderReference>&sig=<hex HMAC-SHA256(callbackSecret, orderReference)>`.
 * The key is made once; the compare is timing-safe. Pure but for the HMAC.
 */
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export interface CallbackSigner {
  /** The hex signature of an order reference. */
  sign(orderReference: string): string;
  /** True when `signature` is the one of `orderReference` (timing-safe). */
  verify(orderReference: string, signature: string): boolean;
  /** `{base}{callbackPath}/{kind}?ref=…&sig=…` */
  url(kind: 'authorization' | 'management', orderReference: string): string;
}

export function createCallbackSigner(secret: string, callbackUrlBase: string): CallbackSigner {
  const key: KeyObject = createSecretKey(Buffer.from(secret, 'utf8'));
  const sign = (orderReference: string) => createHmac('sha256', key).update(orderReference, 'utf8').digest('hex');
  return {
    sign,
    verify(orderReference, signature) {
      if (!/^[0-9a-f]{64}$/i.test(signature)) return false;
      return timingSafeEqual(Buffer.from(sign(orderReference), 'hex'), Buffer.from(signature, 'hex'));
    },
    url(kind, orderReference) {
      const query = new URLSearchParams({ ref: orderReference, sig: sign(orderReference) });
      return `${callbackUrlBase}/${kind}?${query.toString()}`;
    },
  };
}
