/**
 * This package's version, written here (not read from package.json at load time, which breaks
 * bundlers and single-file builds). A test keeps it equal to package.json's `version`.
 */
export const VERSION = '0.2.0';

/** The User-Agent every upstream request carries. */
export const USER_AGENT = `express-resurs-checkout/${VERSION}`;
