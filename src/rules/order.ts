/**
 * The merchant's order, checked before anything reaches Resurs: shapes, lengths and lines that
 * add up. Only the merchant can fix a failure here, so the router answers 500 and logs which rule
 * failed (never an amount, a description or customer data). Pure.
 */
const LINE_TYPES = new Set(['NORMAL', 'PHYSICAL_GOODS', 'DIGITAL_GOODS', 'DISCOUNT', 'SHIPPING', 'FEE', 'GIFT_CARD', 'OTHER_PAYMENT']);
const MAX_LINES = 1000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Finite, and at most two decimals (1.005 is refused; 0.1 + 0.2 is accepted as 0.3). */
export function isAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value * 100 - Math.round(value * 100)) < 1e-6;
}

const text = (value: unknown, max: number, required: boolean): boolean =>
  value === undefined ? !required : typeof value === 'string' && value.length <= max && (!required || value.trim().length > 0);

/** The first rule `order` breaks (e.g. "orderLines[2].totalAmountIncludingVat ≠ quantity × unitAmountIncludingVat"), or undefined. */
export function orderProblem(order: unknown): string | undefined {
  if (!isObject(order)) return 'the order is not an object {orderReference, orderLines}';
  const { orderReference, orderLines } = order;
  if (typeof orderReference !== 'string' || orderReference.length < 1 || orderReference.length > 64) {
    return 'orderReference must be a string of 1 to 64 characters';
  }
  if (!Array.isArray(orderLines) || orderLines.length < 1 || orderLines.length > MAX_LINES) {
    return `orderLines must be a list of 1 to ${MAX_LINES} lines`;
  }
  for (let i = 0; i < orderLines.length; i++) {
    const problem = lineProblem(orderLines[i]);
    if (problem) return `orderLines[${i}].${problem}`;
  }
  return undefined;
}

function lineProblem(line: unknown): string | undefined {
  if (!isObject(line)) return ' is not an object';
  if (!text(line.description, 50, true)) return 'description must be a non-empty string of at most 50 characters';
  if (!text(line.reference, 50, false)) return 'reference must be a string of at most 50 characters';
  if (!text(line.quantityUnit, 50, true)) return 'quantityUnit must be a non-empty string of at most 50 characters';
  if (!isAmount(line.quantity) || line.quantity <= 0) return 'quantity must be a number above 0 with at most two decimals';
  if (typeof line.vatRate !== 'number' || !Number.isFinite(line.vatRate) || line.vatRate < 0 || line.vatRate > 100) {
    return 'vatRate must be a number from 0 to 100';
  }
  if (!isAmount(line.unitAmountIncludingVat)) return 'unitAmountIncludingVat must be a finite amount with at most two decimals';
  if (!isAmount(line.totalAmountIncludingVat)) return 'totalAmountIncludingVat must be a finite amount with at most two decimals';
  if (line.totalVatAmount !== undefined && !isAmount(line.totalVatAmount)) return 'totalVatAmount must be a finite amount with at most two decimals';
  if (Math.abs(line.totalAmountIncludingVat - line.quantity * line.unitAmountIncludingVat) > 0.01 + 1e-9) {
    return 'totalAmountIncludingVat must equal quantity × unitAmountIncludingVat (within 0.01)';
  }
  if (line.type !== undefined && (typeof line.type !== 'string' || !LINE_TYPES.has(line.type))) {
    return `type must be one of ${[...LINE_TYPES].join(', ')}`;
  }
  return undefined;
}
