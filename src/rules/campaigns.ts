/**
 * Campaign rules: an allow-list, names with time windows, or the merchant's predicate.
 * Compiled once when the router is made; each check is a lookup (or the predicate's call).
 * The rule runs only when the storefront asks for a campaign: no campaign is always allowed.
 */
import { ResursCheckoutError } from '../errors';
import type { CampaignRule, CampaignWindow } from '../options/options';

/** Checks one campaign; resolves when allowed, rejects with a 422 ResursCheckoutError when not. */
export type CampaignCheck<Req> = (campaign: string, req: Req, now?: number) => Promise<void>;

interface Window {
  from: number;
  until: number;
}

function toTime(value: Date | string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return (value instanceof Date ? value : new Date(value)).getTime();
}

function notAllowed(campaign: string): ResursCheckoutError {
  return new ResursCheckoutError('campaign_not_allowed', `Campaign "${campaign}" is not offered by this shop.`);
}

/** Compiles the rule (undefined: any well-formed campaign is forwarded). */
export function compileCampaignRule<Req>(rule: CampaignRule | undefined): CampaignCheck<Req> {
  if (rule === undefined) return async () => undefined;

  if (typeof rule === 'function') {
    return async (campaign, req) => {
      if ((await rule(campaign, req as never)) !== true) throw notAllowed(campaign);
    };
  }

  if (Array.isArray(rule)) {
    const allowed = new Set<string>(rule);
    return async (campaign) => {
      if (!allowed.has(campaign)) throw notAllowed(campaign);
    };
  }

  const windows = new Map<string, Window>(
    Object.entries(rule as Record<string, CampaignWindow>).map(([name, w]) => [
      name,
      { from: toTime(w.validFrom, -Infinity), until: toTime(w.validUntil, Infinity) },
    ]),
  );
  return async (campaign, _req, now = Date.now()) => {
    const window = windows.get(campaign);
    if (!window) throw notAllowed(campaign);
    if (now < window.from) {
      throw new ResursCheckoutError(
        'campaign_not_started',
        `Campaign "${campaign}" starts at ${new Date(window.from).toISOString()}.`,
      );
    }
    if (now >= window.until) {
      throw new ResursCheckoutError('campaign_expired', `Campaign "${campaign}" ended at ${new Date(window.until).toISOString()}.`);
    }
  };
}
