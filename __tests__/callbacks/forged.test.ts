/**
 * Forged callbacks: a bad or missing signature, another order's signature, another order's or
 * another store's payment, an unknown payment, and the optional IP allow-list. Nothing of a forged
 * callback reaches Resurs (when the signature is wrong) or the merchant's hook.
 */
import { createResursClient, RESURS_CALLBACK_IPS } from '../../src';
import type { ResursClient } from '../../src';
import { compileIpAllowList } from '../../src/callbacks/ip-allow-list';
import { startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';
import { CALLBACK_SECRET, METHOD_ID, callbackPathOf, merchantRequests, orderFor, signRef, startCallbacksShop } from '../helpers/callbacks-app';
import type { CallbacksShop } from '../helpers/callbacks-app';
import { expectProblem } from '../helpers/problem';
import { logText } from '../helpers/recording-logger';

let standIn: StandIn;
let shop: CallbacksShop;

beforeAll(async () => {
  standIn = await startStandIn();
  shop = await startCallbacksShop({ standIn });
});
afterAll(async () => {
  await shop.close();
  await standIn.close();
});
beforeEach(() => {
  standIn.reset();
  shop.calls.length = 0;
  shop.lines.length = 0;
});

/** An approved payment for `ref` whose genuine callback went out in `none` mode (i.e. not at all). */
async function quietPayment(ref: string): Promise<string> {
  const { paymentId } = await shop.createPayment(ref);
  standIn.merchant.setCallbackMode({ mode: 'none' });
  await standIn.merchant.approve(paymentId);
  standIn.merchant.setCallbackMode(null);
  return paymentId;
}

function post(path: string, body: unknown, requestId?: string) {
  const req = shop.http().post(path).set('Content-Type', 'application/json');
  if (requestId) req.set('X-Request-Id', requestId);
  return req.send(JSON.stringify(body));
}

const authBody = (paymentId: string) => ({ paymentId, status: 'AUTHORIZED', created: new Date().toISOString() });
const query = (ref: string, sig: string) => `?ref=${encodeURIComponent(ref)}&sig=${encodeURIComponent(sig)}`;

describe('the signature gate', () => {
  it('a bad, missing or foreign signature is 403 callback_refused, with no request to Resurs and no hook call', async () => {
    const paymentId = await quietPayment('FORGE-1');
    const otherSig = signRef('FORGE-OTHER');
    const good = signRef('FORGE-1');
    const flipped = good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');
    const cases = [
      query('FORGE-1', flipped),
      query('FORGE-1', good.toUpperCase().slice(0, 63)),
      query('FORGE-1', good + '00'),
      query('FORGE-1', 'not-hex'),
      query('FORGE-1', otherSig), // another order's signature
      query('FORGE-1', signRef('FORGE-1', 'x'.repeat(32))), // signed with another secret
      `?ref=FORGE-1`,
      `?sig=${good}`,
      `?ref=&sig=${signRef('')}`,
      `?ref=FORGE-1&ref=FORGE-1&sig=${good}`, // a repeated ref is not a ref
      '',
    ];
    const details = new Set<string>();
    for (const [i, q] of cases.entries()) {
      const res = await post(`/checkout/callbacks/authorization${q}`, authBody(paymentId), `forge-${i}`);
      const body = expectProblem(res, 403, 'callback_refused', CALLBACK_SECRET, good);
      details.add(`${String(body.title)}|${String(body.detail)}`);
    }
    // Management too.
    expectProblem(await post(`/checkout/callbacks/management${query('FORGE-1', flipped)}`, { paymentId, action: 'CAPTURE', actionId: 'a1' }), 403, 'callback_refused');

    expect(merchantRequests(standIn, 'get')).toBe(0);
    expect(shop.calls).toHaveLength(0);
    // The answer never says which gate refused it.
    expect(details.size).toBe(1);
    expect([...details][0]).not.toMatch(/sig|signature|gate|ip\b|store|order/i);
    // The log does, with the request id, and never with the secret or the signature.
    const refusals = shop.lines.filter((line) => line.fields.gate === 'signature');
    expect(refusals.length).toBe(cases.length + 1);
    expect(refusals.map((line) => line.fields.requestId).slice(0, cases.length)).toEqual(cases.map((_, i) => `forge-${i}`));
    const text = logText(shop.lines);
    for (const secret of [CALLBACK_SECRET, good, flipped, otherSig]) expect(text).not.toContain(secret);
  });

  it("the stand-in's forged deliveries (bad sig, another order's URL) are refused; the genuine one is handled once", async () => {
    await quietPayment('FORGE-EARLIER'); // its URL is what `other-ref` posts to
    const { paymentId } = await shop.createPayment('FORGE-2');
    standIn.merchant.setCallbackMode({ mode: 'forged', variant: 'both' });
    await standIn.merchant.approve(paymentId);
    await standIn.merchant.settled();
    const deliveries = standIn.merchant.callbacks();
    expect(deliveries.map((d) => [d.forged, d.status])).toEqual([
      ['bad-sig', 403],
      ['other-ref', 403],
      [undefined, 204],
    ]);
    expect(shop.calls).toHaveLength(1);
    expect(shop.calls[0]).toMatchObject({ paymentId, orderReference: 'FORGE-2', status: 'ACCEPTED' });
    // bad-sig: no lookup; other-ref: one lookup (then the order does not match); genuine: one.
    expect(merchantRequests(standIn, 'get')).toBe(2);
  });

  it("a valid signature for this order with ANOTHER order's real payment is 403 after the lookup", async () => {
    const mine = await quietPayment('FORGE-MINE');
    const theirs = await quietPayment('FORGE-THEIRS');
    const res = await post(callbackPathOf(standIn, mine, 'authorization'), authBody(theirs));
    expectProblem(res, 403, 'callback_refused');
    expect(merchantRequests(standIn, 'get')).toBe(1);
    const mgmt = await post(callbackPathOf(standIn, mine, 'management'), { paymentId: theirs, action: 'CAPTURE', actionId: 'act-1', created: new Date().toISOString() });
    expectProblem(mgmt, 403, 'callback_refused');
    expect(merchantRequests(standIn, 'get')).toBe(2);
    expect(shop.calls).toHaveLength(0);
    expect(shop.lines.filter((line) => line.fields.gate === 'payment')).toHaveLength(2);
  });

  it("a payment of another store, even with this order's reference and signature, is 403", async () => {
    const other: ResursClient = createResursClient({
      storeId: 'other-store',
      baseUrl: standIn.baseUrl,
      merchantApiUrl: standIn.merchantApiUrl,
      auth: { token: standIn.issueToken() },
    });
    try {
      const foreign = await other.payments.create({ paymentMethodId: METHOD_ID, order: orderFor('FORGE-STORE') });
      expect(foreign.storeId).toBe('other-store');
      const res = await post(`/checkout/callbacks/authorization${query('FORGE-STORE', signRef('FORGE-STORE'))}`, authBody(foreign.id));
      expectProblem(res, 403, 'callback_refused');
      expect(merchantRequests(standIn, 'get')).toBe(1);
      expect(shop.calls).toHaveLength(0);
    } finally {
      other.close();
    }
  });

  it('an unknown payment id with a valid signature is 404 not_found, hook not called', async () => {
    const res = await post(`/checkout/callbacks/authorization${query('FORGE-NONE', signRef('FORGE-NONE'))}`, authBody('00000000-0000-4000-8000-000000000000'));
    expectProblem(res, 404, 'not_found');
    expect(merchantRequests(standIn, 'get')).toBe(1);
    expect(shop.calls).toHaveLength(0);
  });
});

describe('the IP allow-list', () => {
  async function withShop(callbackIps: string[], run: (s: CallbacksShop) => Promise<void>): Promise<void> {
    const s = await startCallbacksShop({ standIn, payments: { callbackIps } });
    try {
      await run(s);
    } finally {
      await s.close();
    }
  }

  it('refuses a 127.0.0.1 caller not on the list with 403 before anything (no lookup, no hook), even with a valid signature', async () => {
    await withShop(['10.9.9.9'], async (s) => {
      const { paymentId } = await s.createPayment('IP-1');
      await standIn.merchant.approve(paymentId);
      await standIn.merchant.settled();
      expect(standIn.merchant.callbacks().map((c) => c.status)).toEqual([403, 403, 403]); // refused, retried by Resurs, refused
      // X-Forwarded-For does not help without the shop's own `trust proxy`.
      const res = await s
        .http()
        .post(callbackPathOf(standIn, paymentId, 'authorization'))
        .set('Content-Type', 'application/json')
        .set('X-Forwarded-For', '10.9.9.9')
        .send(JSON.stringify(authBody(paymentId)));
      expectProblem(res, 403, 'callback_refused');
      expect(merchantRequests(standIn, 'get')).toBe(0);
      expect(s.calls).toHaveLength(0);
      expect(s.lines.filter((line) => line.fields.gate === 'ip').length).toBe(4);
    });
  });

  // The IP gate is a stage of its own, before the media-type, size and JSON stages.
  it('refuses a caller not on the list before reading its body (not 415/413/400)', async () => {
    await withShop(['10.9.9.9'], async (s) => {
      const path = '/checkout/callbacks/authorization';
      expectProblem(await s.http().post(path).set('Content-Type', 'text/plain').send('x'), 403, 'callback_refused');
      expectProblem(await s.http().post(path).set('Content-Type', 'application/json').send(JSON.stringify({ pad: 'x'.repeat(5000) })), 403, 'callback_refused');
      expectProblem(await s.http().post(path).set('Content-Type', 'application/json').send('{'), 403, 'callback_refused');
    });
  });

  it.each([[['127.0.0.1']], [['127.0.0.0/8']], [['10.0.0.0/8', '127.0.0.1/32']], [['::1', '127.0.0.1']]])('allows a listed caller: %j', async (ips) => {
    await withShop(ips, async (s) => {
      const { paymentId } = await s.createPayment('IP-OK');
      await standIn.merchant.approve(paymentId);
      await standIn.merchant.settled();
      expect(standIn.merchant.callbacks().map((c) => c.status)).toEqual([204]);
      expect(s.calls).toHaveLength(1);
    });
  });

  it("RESURS_CALLBACK_IPS is exported (Resurs' published ranges) and refuses loopback", async () => {
    expect(RESURS_CALLBACK_IPS.length).toBeGreaterThan(0);
    expect(Object.isFrozen(RESURS_CALLBACK_IPS)).toBe(true);
    for (const entry of RESURS_CALLBACK_IPS) expect(entry).toMatch(/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/);
    await withShop([...RESURS_CALLBACK_IPS], async (s) => {
      const paymentId = await (async () => {
        const { paymentId: id } = await s.createPayment('IP-RESURS');
        return id;
      })();
      const res = await s.http().post(callbackPathOf(standIn, paymentId, 'authorization')).set('Content-Type', 'application/json').send(JSON.stringify(authBody(paymentId)));
      expectProblem(res, 403, 'callback_refused');
    });
  });

  it('matching: CIDR, single addresses, IPv4-mapped IPv6, IPv6 ranges; no address is refused', () => {
    const allow = compileIpAllowList(['192.121.110.0/24', '10.9.9.9', '2001:db8::/32']);
    expect(allow('192.121.110.7')).toBe(true);
    expect(allow('::ffff:192.121.110.255')).toBe(true);
    expect(allow('192.121.111.1')).toBe(false);
    expect(allow('10.9.9.9')).toBe(true);
    expect(allow('10.9.9.10')).toBe(false);
    expect(allow('2001:db8:1::5')).toBe(true);
    expect(allow('2001:db9::1')).toBe(false);
    expect(allow(undefined)).toBe(false);
    expect(allow('')).toBe(false);
    expect(compileIpAllowList(undefined)('203.0.113.1')).toBe(true);
  });
});
