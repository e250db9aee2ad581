/**
 * Signed callback URLs: `?ref=<orderReference>&sig=<hex HMAC-SHA256(callbackSecret, orderReference)>`.
 * A router serving several stores names the store too and signs both:
 * `?store=<storeId>&ref=…&sig=<hex HMAC-SHA256(callbackSecret, "<length of storeId>:<storeId>\n<orderReference>")>`
 * (the length prefix keeps two different pairs from ever signing the same text).
 * The key is made once; the compare is timing-safe. Pure but for the HMAC.
 */
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export interface CallbackSigner {
  /** The hex signature of an order reference (and, with several stores, its store). */
  sign(orderReference: string, storeId: string): string;
  /** True when `signature` is the one of `orderReference` (and store) (timing-safe). */
  verify(orderReference: string, storeId: string, signature: string): boolean;
  /** `{base}{callbackPath}/{kind}?ref=…&sig=…`, with `store=…` first when the router serves several stores. */
  url(kind: 'authorization' | 'management', orderReference: string, storeId: string): string;
}

/** `severalStores`: the URL carries the store and the signature covers it; else only the order reference (the contract's form). */
export function createCallbackSigner(secret: string, callbackUrlBase: string, severalStores = false): CallbackSigner {
  const key: KeyObject = createSecretKey(Buffer.from(secret, 'utf8'));
  const signed = (orderReference: string, storeId: string) => (severalStores ? `${storeId.length}:${storeId}\n${orderReference}` : orderReference);
  const sign = (orderReference: string, storeId: string) => createHmac('sha256', key).update(signed(orderReference, storeId), 'utf8').digest('hex');
  return {
    sign,
    verify(orderReference, storeId, signature) {
      if (!/^[0-9a-f]{64}$/i.test(signature)) return false;
      return timingSafeEqual(Buffer.from(sign(orderReference, storeId), 'hex'), Buffer.from(signature, 'hex'));
    },
    url(kind, orderReference, storeId) {
      const query = new URLSearchParams(severalStores ? { store: storeId } : {});
      query.set('ref', orderReference);
      query.set('sig', sign(orderReference, storeId));
      return `${callbackUrlBase}/${kind}?${query.toString()}`;
    },
  };
}
