/**
 * The demo merchant's campaign rule: names with time windows (the stand-in knows all three).
 * SPRING_2025 has ended, so the router answers 422 `campaign_expired` without calling Resurs;
 * any other name answers 422 `campaign_not_allowed`.
 */
import type { CampaignWindow } from 'express-resurs-checkout';

export const DEMO_CAMPAIGNS: Readonly<Record<string, CampaignWindow>> = Object.freeze({
  SUMMER_SALE: { validFrom: '2025-06-01T00:00:00Z' },
  BLACK_FRIDAY: {},
  SPRING_2025: { validFrom: '2025-03-01T00:00:00Z', validUntil: '2025-06-01T00:00:00Z' },
});
