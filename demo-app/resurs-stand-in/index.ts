/** The Resurs stand-in: a local HTTP server that imitates Resurs' Create Session API, the Merchant API v2 payment routes and friends. */
export { startStandIn } from './server';
export * from './constants';
export type * from './types';
export { FOREIGN_SCRIPT_URL } from './sessions';
export { defaultStatusBody } from './faults';
export { PAYMENT_METHOD_CATALOG, groupsFor, type PaymentMethodGroup, type PaymentMethodType, type CustomerType } from './payment-methods';
export { PAYMENT_ELEMENTS_SCRIPT } from './payment-elements-script';
export { DEFAULT_CALLBACK_DELIVERY } from './callbacks';
export { APPROVAL_PAGE_HEADERS } from './approval-page';
export type { MerchantErrorBody } from './merchant-errors';
