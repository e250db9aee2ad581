/**
 * The storefront's request body: `{}` or `{"campaign": "<name>"}`, nothing else.
 * The schema is compiled once; checking it is a pure function.
 */
import Joi from 'joi';
import { ResursCheckoutError } from '../errors';
import type { FieldError } from '../errors';

/** A campaign name: 1 to 64 characters of A-Z a-z 0-9 _ -. */
export const CAMPAIGN_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The storefront's validated request. */
export interface SessionRequest {
  campaign?: string;
}

const schema = Joi.object({
  campaign: Joi.string().pattern(CAMPAIGN_PATTERN).messages({
    'string.base': 'campaign must be a string',
    'string.empty': 'campaign must not be empty',
    'string.pattern.base': 'campaign must be 1 to 64 characters of A-Z a-z 0-9 _ -',
  }),
})
  .messages({
    'object.base': 'the body must be a JSON object with at most a "campaign" field',
    'object.unknown': '{{#label}} is not allowed; the body takes only "campaign"',
  })
  .options({ abortEarly: false, convert: false, errors: { label: 'key', wrap: { label: false } } });

/** Checks a parsed body (`undefined` for an empty one). Throws `invalid_request` with field errors. */
export function parseSessionRequest(body: unknown): SessionRequest {
  if (body === undefined) return {};
  // The two well-formed bodies, {} and {"campaign": "<name>"}, are answered without joi (it clones
  // and walks the object on every call); anything else goes through it for its error details.
  if (typeof body === 'object' && body !== null && Object.getPrototypeOf(body) === Object.prototype) {
    const keys = Object.keys(body);
    if (keys.length === 0) return {};
    const campaign = (body as { campaign?: unknown }).campaign;
    if (keys.length === 1 && keys[0] === 'campaign' && typeof campaign === 'string' && CAMPAIGN_PATTERN.test(campaign)) return { campaign };
  }
  // joi validates a clone, in which an own `__proto__` key becomes the prototype and vanishes: refuse it here.
  if (typeof body === 'object' && body !== null && Object.hasOwn(body, '__proto__')) {
    const errors: FieldError[] = [{ path: '__proto__', message: '__proto__ is not allowed; the body takes only "campaign"' }];
    throw new ResursCheckoutError('invalid_request', `The request body is not valid: ${errors[0]!.message}.`, { errors });
  }
  const { error } = schema.validate(body);
  if (error) {
    const errors: FieldError[] = error.details.map((d) => ({ path: d.path.map(String).join('.'), message: d.message }));
    throw new ResursCheckoutError('invalid_request', 'The request body is not valid: ' + errors.map((e) => e.message).join('; ') + '.', {
      errors,
    });
  }
  const campaign = (body as SessionRequest).campaign;
  return campaign === undefined ? {} : { campaign };
}
