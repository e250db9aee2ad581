/** Sends a raw HTTP request to an app (so a test controls framing: chunked bodies, odd headers). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export function rawRequest(
  app: Express,
  init: { method: string; path: string; headers?: Record<string, string>; chunks?: (string | Buffer)[] },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const req = http.request({ host: '127.0.0.1', port, method: init.method, path: init.path, headers: init.headers, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          server.close();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        });
      });
      req.on('error', (error) => {
        server.close();
        reject(error);
      });
      for (const chunk of init.chunks ?? []) req.write(chunk);
      req.end();
    });
  });
}
