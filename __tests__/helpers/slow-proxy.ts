/**
 * A TCP proxy on 127.0.0.1 in front of a redis-server that holds commands back before they
 * reach Redis, so a command's effect and its reply both come late: "Redis is slow". It reads
 * the client's RESP arrays to pick the delay per command (e.g. only `SET … NX`), and keeps each
 * connection's order (a held command holds the ones pipelined behind it, as a slow server does).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** How long to hold one command (its words, e.g. `['SET', 'key', 'value', 'PX', '100', 'NX']`), in ms. */
export type DelayFn = (command: readonly string[]) => number;

/** A running proxy. */
export interface SlowProxy {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** Replaces the delay rule; commands already held keep theirs. */
  setDelay(delay: DelayFn): void;
  /** Commands forwarded so far, by name (upper case), for assertions. */
  counts(): ReadonlyMap<string, number>;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

/** Delays `SET … NX` (a lock being taken) by `ms`, every other command by `others` (default 0). */
export function delaySetNx(ms: number, others = 0): DelayFn {
  return (command) => (command[0]?.toUpperCase() === 'SET' && command.some((word) => word.toUpperCase() === 'NX') ? ms : others);
}

/** Starts a proxy to `127.0.0.1:targetPort`. */
export async function startSlowProxy(targetPort: number, delay: DelayFn = () => 0): Promise<SlowProxy> {
  let rule = delay;
  const counts = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.createConnection({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pipe(client);

    let pending = Buffer.alloc(0);
    /** Commands held back, in arrival order; only the head is ever timed. */
    const queue: Array<{ at: number; bytes: Buffer }> = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drain = (): void => {
      timer = undefined;
      while (queue.length > 0 && queue[0]!.at <= Date.now()) {
        const { bytes } = queue.shift()!;
        if (!upstream.destroyed) upstream.write(bytes);
      }
      if (queue.length > 0) timer = setTimeout(drain, queue[0]!.at - Date.now());
    };
    client.on('close', () => clearTimeout(timer));
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const parsed = parseCommand(pending);
        if (!parsed) break;
        pending = pending.subarray(parsed.length);
        const name = parsed.words[0]?.toUpperCase() ?? '';
        counts.set(name, (counts.get(name) ?? 0) + 1);
        queue.push({ at: Date.now() + Math.max(0, rule(parsed.words)), bytes: Buffer.from(parsed.raw) });
      }
      if (timer === undefined) drain();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    setDelay(next) {
      rule = next;
    },
    counts: () => counts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Parsed {
  words: string[];
  raw: Uint8Array;
  length: number;
}

/** One RESP array of bulk strings from the front of `buffer`, or undefined while it is incomplete. */
function parseCommand(buffer: Buffer): Parsed | undefined {
  if (buffer.length === 0) return undefined;
  if (buffer[0] !== 0x2a /* '*' */) {
    // An inline command (never sent by node-redis): up to the line end, passed on undelayed.
    const end = buffer.indexOf('\r\n');
    if (end < 0) return undefined;
    return { words: buffer.subarray(0, end).toString('utf8').split(' '), raw: buffer.subarray(0, end + 2), length: end + 2 };
  }
  let offset = 0;
  const line = (): string | undefined => {
    const end = buffer.indexOf('\r\n', offset);
    if (end < 0) return undefined;
    const text = buffer.subarray(offset, end).toString('latin1');
    offset = end + 2;
    return text;
  };
  const header = line();
  if (header === undefined) return undefined;
  const count = Number(header.slice(1));
  const words: string[] = [];
  for (let i = 0; i < count; i++) {
    const size = line();
    if (size === undefined || !size.startsWith('$')) return undefined;
    const length = Number(size.slice(1));
    if (buffer.length < offset + length + 2) return undefined;
    words.push(buffer.subarray(offset, offset + length).toString('utf8'));
    offset += length + 2;
  }
  return { words, raw: buffer.subarray(0, offset), length: offset };
}
