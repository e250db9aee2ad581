/**
 * The baseline: what a merchant would write by hand without express-resurs-checkout.
 * A minimal Express endpoint that forwards the campaign to Resurs' Create Session with axios over
 * a keep-alive agent and passes the three fields on. No request id, no body rules, no retries,
 * no breaker, no answer check: the least work that does the same call.
 * Not part of the package; `npm run bench` measures the router against it (and against the
 * limit below).
 */
import http from 'node:http';
import https from 'node:https';
import axios from 'axios';
import express from 'express';
import { Pool } from 'undici';
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

/**
 * The limit: the same hop with nothing around it. `node:http` + undici `Pool.request` (keep-alive,
 * no pipelining) to Create Session, the three fields passed on; no Express, no axios, no checks.
 * No endpoint that proxies this call can cost less; the router's own cost is measured against it.
 */
export function createLimitHandler({ baseUrl, storeId, token }: BaselineOptions): http.RequestListener {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/stores/${encodeURIComponent(storeId)}/sessions`);
  const pool = new Pool(url.origin, { connections: 256, pipelining: 1 });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const answer = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        try {
          let campaign: unknown;
          try {
            campaign = (JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { campaign?: unknown }).campaign;
          } catch {
            return answer(res, 400, { error: 'Invalid JSON' });
          }
          const upstream = await pool.request({
            path: url.pathname,
            method: 'POST',
            headers,
            body: JSON.stringify(typeof campaign === 'string' ? { campaign } : {}),
          });
          const data = (await upstream.body.json()) as { id: string; expiresAt: string; embed: { src: string } };
          answer(res, 201, { id: data.id, expiresAt: data.expiresAt, embed: { src: data.embed.src } });
        } catch {
          answer(res, 502, { error: 'Could not create a checkout session' });
        }
      })();
    });
  };
}

/**
 * The hand-written endpoint with undici instead of axios: Express 5 + `express.json()` + undici
 * `Pool.request`: what Express itself costs on top of the limit.
 */
export function createExpressUndiciApp({ baseUrl, storeId, token }: BaselineOptions): Express {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/stores/${encodeURIComponent(storeId)}/sessions`);
  const pool = new Pool(url.origin, { connections: 256, pipelining: 1 });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const app = express();
  app.post('/checkout/session', express.json(), async (req, res) => {
    try {
      const campaign = typeof req.body?.campaign === 'string' ? req.body.campaign : undefined;
      const upstream = await pool.request({ path: url.pathname, method: 'POST', headers, body: JSON.stringify(campaign ? { campaign } : {}) });
      const data = (await upstream.body.json()) as { id: string; expiresAt: string; embed: { src: string } };
      res.status(201).json({ id: data.id, expiresAt: data.expiresAt, embed: { src: data.embed.src } });
    } catch {
      res.status(502).json({ error: 'Could not create a checkout session' });
    }
  });
  return app;
}
