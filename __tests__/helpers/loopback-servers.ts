/**
 * Small servers on 127.0.0.1 for fault suites: a port nothing listens on, a server that records
 * every request it gets (e.g. a redirect target that must never be reached), and one that
 * accepts connections and resets them at once.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A loopback port with nothing listening on it (bound once, then released). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export interface RecordedHit {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** An HTTP server that answers 200 `{}` and records every request. */
export interface RecordingServer {
  url: string;
  hits: RecordedHit[];
  close(): Promise<void>;
}

export async function startRecordingServer(): Promise<RecordingServer> {
  const hits: RecordedHit[] = [];
  const server = http.createServer((req, res) => {
    hits.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, hits, close: () => closeServer(server) };
}

/** A TCP server that accepts every connection and resets it before reading a byte. */
export interface ResettingServer {
  url: string;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startResettingServer(): Promise<ResettingServer> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    socket.resetAndDestroy();
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, connections: () => count, close: () => closeServer(server) };
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (server instanceof http.Server) server.closeAllConnections();
    server.close(() => resolve());
  });
}
