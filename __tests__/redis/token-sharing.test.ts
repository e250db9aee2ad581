/**
 * Client-credentials tokens shared through Redis (`auth.store`): two shops, each with its own
 * node-redis client as two processes would have, fetch one token between them, even when both
 * start cold at the same moment. The token is kept in Redis, never written to a log.
 */
import type { Server } from 'node:http';
import type { Express } from 'express';
import request from 'supertest';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../../demo-app/resurs-stand-in';
import { RedisSessionStore } from '../../src';
import { startHarness, type CheckoutHarness } from '../helpers/checkout-app';
import { logText } from '../helpers/recording-logger';
import { connectRedis, sendCommandOf, type RedisClient } from '../helpers/redis-client';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server';
import { delaySetNx, startSlowProxy } from '../helpers/slow-proxy';

function listen(app: Express): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function post(server: Server) {
  return request(server).post('/checkout/session').set('Content-Type', 'application/json').send({});
}

describeWithRedis('client-credentials tokens shared through Redis', () => {
  let redis: RedisServer;
  let clientA: RedisClient;
  let clientB: RedisClient;
  let harness: CheckoutHarness;
  const servers: Server[] = [];

  /** A shop that gets its tokens from the stand-in's token endpoint, sharing them through `client`. */
  async function shop(client: RedisClient): Promise<Server> {
    const server = await listen(
      harness.app({
        auth: {
          clientId: DEMO_CLIENT_ID,
          clientSecret: DEMO_CLIENT_SECRET,
          tokenUrl: harness.standIn.tokenUrl,
          store: new RedisSessionStore({ sendCommand: sendCommandOf(client) }),
        },
      }),
    );
    servers.push(server);
    return server;
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    [clientA, clientB] = await Promise.all([connectRedis(redis.url), connectRedis(redis.url)]);
    harness = await startHarness();
  });

  afterAll(async () => {
    await Promise.all(servers.map(closeServer));
    clientA?.destroy();
    clientB?.destroy();
    await harness?.close();
    await redis?.stop();
  });

  beforeEach(async () => {
    harness.standIn.reset();
    await clientA.flushAll();
  });

  it('fetches one token for two apps starting cold at the same moment', async () => {
    const [shopA, shopB] = await Promise.all([shop(clientA), shop(clientB)]);
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 === 0 ? shopA : shopB)));
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 201));
    expect(harness.standIn.tokenRequests).toHaveLength(1);
    expect(harness.standIn.sessionRequests).toHaveLength(20);

    // Every Create Session call carried that one token, and it is what Redis holds.
    const bearers = new Set(harness.standIn.sessionRequests.map((r) => r.headers.authorization));
    expect(bearers.size).toBe(1);
    const token = String([...bearers][0]).replace(/^Bearer /, '');
    const tokenKeys = await clientA.keys('resurs-checkout:token:*');
    expect(tokenKeys.filter((key) => !key.endsWith(':lock'))).toHaveLength(1);
    const stored = JSON.parse((await clientA.get(tokenKeys.find((key) => !key.endsWith(':lock'))!))!) as { token: string };
    expect(stored.token).toBe(token);
    expect(await clientA.keys('resurs-checkout:token:*:lock')).toEqual([]);
    // Stored with a lifetime, shorter than the token's hour.
    const pttl = await clientA.pTTL(tokenKeys[0]!);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(3600_000);

    // Neither the token nor the client secret reaches a log line, nor the client id in a key.
    const logged = logText(harness.lines);
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(DEMO_CLIENT_SECRET);
    expect(tokenKeys.join(' ')).not.toContain(DEMO_CLIENT_ID);
  });

  it('lets an instance started later use the stored token instead of fetching its own', async () => {
    const first = await shop(clientA);
    await post(first).expect(201);
    expect(harness.standIn.tokenRequests).toHaveLength(1);
    const later = await shop(clientB);
    await post(later).expect(201);
    await post(later).expect(201);
    expect(harness.standIn.tokenRequests).toHaveLength(1);
    expect(harness.standIn.sessionRequests).toHaveLength(3);
  });

  it("a slow reply to the token lock's SET NX leaves no lock behind: another instance's first checkout does not wait", async () => {
    const proxy = await startSlowProxy(redis.port, delaySetNx(700));
    const slowClient = await connectRedis(proxy.url);
    try {
      const slow = await shop(slowClient);
      await post(slow).expect(201);
      expect(harness.standIn.tokenRequests).toHaveLength(1);
      expect(await clientA.keys('resurs-checkout:token:*:lock')).toEqual([]);

      const other = await shop(clientB);
      const started = Date.now();
      await post(other).expect(201);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(harness.standIn.tokenRequests).toHaveLength(1);
    } finally {
      slowClient.destroy();
      await proxy.close();
    }
  });
});
