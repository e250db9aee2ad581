/**
 * The baseline: what a merchant would write by hand without express-resurs-checkout.
 * A minimal Express endpoint that forwards the campaign to Resurs' Create Session with axios over
 * a keep-alive agent and passes the three fields on. No request id, no body rules, no retries,
 * no breaker, no answer check: the least work that does the same call.
 * Not part of the package; `npm run bench` measures the router against it.
 */
import http from 'node:http';
import https from 'node:https';
import axios from 'axios';
import express from 'express';
import type { Express } from 'express';

export interface BaselineOptions {
  /** e.g. `http://127.0.0.1:PORT/mock/payment/public/v1` */
  baseUrl: string;
  storeId: string;
  /** The merchant JWT. */
  token: string;
}

export function createBaselineApp({ baseUrl, storeId, token }: BaselineOptions): Express {
  const resurs = axios.create({
    baseURL: baseUrl,
    timeout: 10_000,
    httpAgent: new http.Agent({ keepAlive: true }),
    httpsAgent: new https.Agent({ keepAlive: true }),
    headers: { Authorization: `Bearer ${token}` },
  });

  const app = express();
  app.post('/checkout/session', express.json(), async (req, res) => {
    try {
      const campaign = typeof req.body?.campaign === 'string' ? req.body.campaign : undefined;
      const { data } = await resurs.post(`/stores/${encodeURIComponent(storeId)}/sessions`, campaign ? { campaign } : {});
      res.status(201).json({ id: data.id, expiresAt: data.expiresAt, embed: { src: data.embed.src } });
    } catch {
      res.status(502).json({ error: 'Could not create a checkout session' });
    }
  });
  return app;
}
