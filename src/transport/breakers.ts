/**
 * One circuit breaker per upstream host: the sessions API and the Merchant API fail apart, so a
 * sick one never stops the other. Made lazily, kept for the life of the client.
 */
import { createBreaker } from '../resilience/breaker';
import type { Breaker, BreakerSettings } from '../resilience/breaker';

export interface Breakers {
  /** The breaker of `url`'s host. */
  of(url: string): Breaker;
}

export function createBreakers(settings: BreakerSettings | false, isFailure: (error: unknown) => boolean): Breakers {
  const byHost = new Map<string, Breaker>();
  return {
    of(url) {
      const host = new URL(url).host;
      let breaker = byHost.get(host);
      if (!breaker) {
        breaker = createBreaker(settings, isFailure);
        byHost.set(host, breaker);
      }
      return breaker;
    },
  };
}
