/**
 * Another process on loopback that answers "v" to anything sent to it, at once: the other side
 * of a call (as Redis is) that answers while the test's own process is busy.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';

/** A one-line TCP server for a child process: prints its port, answers "v" to anything. */
const ANSWERING_SERVER = `
const server = require('node:net').createServer((socket) => socket.on('data', () => socket.write('v')).on('error', () => {}));
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port)));
`;

/** Runs `body` with `ask()`, one round trip to the peer (resolves with its answer); stops the peer after. */
export async function withAnsweringPeer(body: (ask: () => Promise<string>) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, ['-e', ANSWERING_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = Number(await new Promise<string>((resolve) => child.stdout.once('data', (data: Buffer) => resolve(data.toString('utf8')))));
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    try {
      await body(
        () =>
          new Promise<string>((resolve) => {
            socket.once('data', (data) => resolve(data.toString('utf8')));
            socket.write('ask');
          }),
      );
    } finally {
      socket.destroy();
    }
  } finally {
    child.kill();
  }
}

/** Keeps this process's event loop busy for `ms` (nothing else runs meanwhile). */
export function busyFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}
