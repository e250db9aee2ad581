/**
 * The demo's server-side cart: one per browser, found by an HttpOnly, SameSite=Lax cookie holding
 * a random cart id. The lines are fixed demo lines kept here, so the order the router sends to
 * Resurs is built from the server's cart, never from anything the browser says about amounts.
 */
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { OrderLine } from 'express-resurs-checkout';

/** Name of the cookie that holds the cart id. */
export const CART_COOKIE = 'ng_cart';

/** VAT rate of every demo line, in percent (Swedish standard rate). */
const VAT_RATE = 25;

/** One line as the shop prices it (SEK, VAT included). */
export interface CartLine {
  reference: string;
  description: string;
  quantity: number;
  unitAmountIncludingVat: number;
}

/** The demo cart every shopper gets: 1 × 499 + 2 × 149 + 1 × 129 = 926 kr. */
export const DEMO_CART_LINES: readonly CartLine[] = Object.freeze([
  Object.freeze({ reference: 'NG-SHIRT-LINEN', description: 'Linen shirt', quantity: 1, unitAmountIncludingVat: 499 }),
  Object.freeze({ reference: 'NG-TOTE-CANVAS', description: 'Canvas tote bag', quantity: 2, unitAmountIncludingVat: 149 }),
  Object.freeze({ reference: 'NG-MUG-CERAMIC', description: 'Ceramic mug', quantity: 1, unitAmountIncludingVat: 129 }),
]);

/** A shopper's cart. `orderReference` is the current attempt's; a new attempt gets a new one. */
export interface Cart {
  readonly id: string;
  readonly lines: readonly CartLine[];
  orderReference: string;
  /** 1 for the first attempt, then one more per new order reference. */
  attempt: number;
}

/** What `GET /demo/cart` answers: the lines to show and their total. */
export interface CartView {
  lines: { description: string; quantity: number; unitAmountIncludingVat: number; totalAmountIncludingVat: number }[];
  total: number;
  currency: 'SEK';
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
const CART_ID = /^[0-9a-f]{32}$/;

/** A fresh, unguessable order reference (well under Resurs' 64 characters). */
export function newOrderReference(): string {
  return `NG-${Date.now().toString(36).toUpperCase()}-${randomBytes(6).toString('hex').toUpperCase()}`;
}

/** The Resurs order lines of a cart: totals and VAT computed here, two decimals at most. */
export function orderLinesOf(cart: Cart): OrderLine[] {
  return cart.lines.map((line) => {
    const total = round2(line.quantity * line.unitAmountIncludingVat);
    return {
      reference: line.reference,
      description: line.description,
      quantity: line.quantity,
      quantityUnit: 'st',
      vatRate: VAT_RATE,
      unitAmountIncludingVat: line.unitAmountIncludingVat,
      totalAmountIncludingVat: total,
      totalVatAmount: round2((total * VAT_RATE) / (100 + VAT_RATE)),
      type: 'NORMAL',
    };
  });
}

export function viewOf(cart: Cart): CartView {
  const lines = cart.lines.map((line) => ({
    description: line.description,
    quantity: line.quantity,
    unitAmountIncludingVat: line.unitAmountIncludingVat,
    totalAmountIncludingVat: round2(line.quantity * line.unitAmountIncludingVat),
  }));
  return { lines, total: round2(lines.reduce((sum, line) => sum + line.totalAmountIncludingVat, 0)), currency: 'SEK' };
}

function cookieValue(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Carts in memory, the oldest dropped past `maxCarts`. */
export class CartStore {
  private readonly carts = new Map<string, Cart>();

  constructor(private readonly options: { secureCookie: boolean; maxCarts?: number }) {}

  /** The request's cart, when its cookie names one we keep. Never creates one. */
  find(req: Request): Cart | undefined {
    const id = cookieValue(req, CART_COOKIE);
    return id && CART_ID.test(id) ? this.carts.get(id) : undefined;
  }

  /** The request's cart; a new one (and its Set-Cookie) when it has none. */
  ensure(req: Request, res: Response): Cart {
    const found = this.find(req);
    if (found) return found;
    const cart: Cart = { id: randomBytes(16).toString('hex'), lines: DEMO_CART_LINES, orderReference: newOrderReference(), attempt: 1 };
    this.carts.set(cart.id, cart);
    const max = this.options.maxCarts ?? 10_000;
    while (this.carts.size > max) this.carts.delete(this.carts.keys().next().value as string);
    res.append('Set-Cookie', `${CART_COOKIE}=${cart.id}; Path=/; HttpOnly; SameSite=Lax${this.options.secureCookie ? '; Secure' : ''}`);
    return cart;
  }

  /** Starts a new attempt on the cart: a new order reference. */
  renew(cart: Cart): void {
    cart.orderReference = newOrderReference();
    cart.attempt += 1;
  }
}
