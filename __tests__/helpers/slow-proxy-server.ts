/**
 * The slow Redis proxy itself, run as a process of its own by `slow-proxy.ts` (Redis is another
 * process; so is what makes it slow, so a busy test process does not make Redis look slower
 * still). A TCP proxy on 127.0.0.1 in front of a redis-server that holds commands back before
 * they reach Redis, so a command's effect and its reply both come late. It reads the client's
 * RESP arrays to pick the delay per command (e.g. only `SET … NX`), and keeps each connection's
 * order (a held command holds the ones pipelined behind it, as a slow server does).
 *
 * As a child: argv `<targetPort> <rule json>`; prints its port on a line once listening; each
 * line on stdin is a new rule (JSON), answered with a line `ok` once it applies.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import readline from 'node:readline';

/** How long to hold a command, as data (it crosses to the proxy's process). */
export interface DelayRule {
  /** For `SET … NX` (a lock being taken), in ms. Default 0. */
  setNxMs?: number;
  /** For every other command, in ms. Default 0. */
  otherMs?: number;
  /** Adds a random 0 to `jitterMs` - 1 ms to each command. Default 0. */
  jitterMs?: number;
}

/** The hold for one command (its words, e.g. `['SET', 'key', 'value', 'PX', '100', 'NX']`), in ms. */
export function delayOf(rule: DelayRule, words: readonly string[]): number {
  const setNx = words[0]?.toUpperCase() === 'SET' && words.some((word) => word.toUpperCase() === 'NX');
  const base = (setNx ? rule.setNxMs : rule.otherMs) ?? 0;
  return Math.max(0, base + Math.floor(Math.random() * (rule.jitterMs ?? 0)));
}

function startProxy(targetPort: number, initial: DelayRule): { server: net.Server; setRule(rule: DelayRule): void } {
  let rule = initial;
  const server = net.createServer((client) => {
    const upstream = net.createConnection({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, upstream]) socket.on('error', () => undefined);
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
        queue.push({ at: Date.now() + delayOf(rule, parsed.words), bytes: Buffer.from(parsed.raw) });
      }
      if (timer === undefined) drain();
    });
  });
  return {
    server,
    setRule(next) {
      rule = next;
    },
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

if (require.main === module) {
  const [port, json] = process.argv.slice(2);
  const proxy = startProxy(Number(port), JSON.parse(json ?? '{}') as DelayRule);
  proxy.server.listen(0, '127.0.0.1', () => process.stdout.write(`${(proxy.server.address() as AddressInfo).port}\n`));
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    proxy.setRule(JSON.parse(line) as DelayRule);
    process.stdout.write('ok\n');
  });
  // The test process went away (or closed us): so do we, and every connection with us.
  process.stdin.on('end', () => process.exit(0));
}
