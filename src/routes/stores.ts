/**
 * Which of the router's Resurs stores a request is for. Each store's parts (its calls, its reuse,
 * its payment guard, its callback marks) are built once, when the router is; a request only looks
 * its store up. With a fixed `storeId` there is one store and nothing to choose; with a `storeId`
 * function, what it returns must be one of `stores`, else the shop has a bug: 500, logged, and
 * nothing is sent to Resurs.
 */
import type { Request } from 'express';
import type { ResolvedRouterOptions } from '../options/options';
import { merchantCodeError } from './merchant-code';

/** One store and what a route built for it. */
export interface Store<T> {
  readonly id: string;
  readonly parts: T;
}

export interface Stores<T> {
  /** The request's store; throws the 500 of a merchant bug when the function's answer is not in `stores`. */
  of(req: Request): Store<T>;
  /** A store by id (a callback names its store in the signed URL); undefined when unknown. */
  byId(id: string): Store<T> | undefined;
  /** More than one store may be served: callback URLs then carry the store. */
  readonly several: boolean;
}

export function buildStores<T>(settings: Pick<ResolvedRouterOptions, 'stores' | 'storeOf'>, build: (storeId: string) => T): Stores<T> {
  const all = new Map<string, Store<T>>(settings.stores.map((id) => [id, { id, parts: build(id) }]));
  const storeOf = settings.storeOf;
  const byId = (id: string) => all.get(id);
  if (!storeOf) {
    const only = all.get(settings.stores[0]!)!;
    return { of: () => only, byId, several: false };
  }
  return {
    of(req) {
      let chosen: unknown;
      try {
        chosen = storeOf(req);
      } catch {
        throw merchantCodeError('storeId', 'The storeId function threw; answered 500 without calling Resurs. Fix the function you passed.');
      }
      const store = typeof chosen === 'string' ? all.get(chosen) : undefined;
      if (store) return store;
      // Its value may come from the request (a header, the host): its type is logged, never the value.
      throw merchantCodeError(
        'storeId',
        'The storeId function returned a store that is not in `stores`; answered 500 without calling Resurs. Add the store to `stores` or fix the function.',
        { returned: chosen === undefined ? 'undefined' : typeof chosen },
      );
    },
    byId,
    several: true,
  };
}
