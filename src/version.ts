import { readFileSync } from 'node:fs';
import path from 'node:path';

/** This package's version, read once from its package.json (src/ and dist/ sit beside it). */
export const VERSION: string = (
  JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
).version;

/** The User-Agent every upstream request carries. */
export const USER_AGENT = `express-resurs-checkout/${VERSION}`;
