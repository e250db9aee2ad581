/**
 * The bench's BENCH_UNDICI_NO_YIELD experiment: the edit finds both of undici's yields in the
 * installed undici exactly once (and says so when it does not), and in a real process undici
 * then writes a request on a reused socket at once, where it otherwise waits for the check phase.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLIENT_H1, withoutYields } from '../../bench/undici-no-yield';

const ROOT = path.join(__dirname, '..', '..');
const clientH1 = path.join(path.dirname(require.resolve('undici/package.json')), 'lib', 'dispatcher', 'client-h1.js');

it('removes both yields from the installed undici, and refuses a source it does not know', () => {
  expect(CLIENT_H1.test(clientH1)).toBe(true);
  const source = fs.readFileSync(clientH1, 'utf8');
  const edited = withoutYields(source);
  expect(edited).not.toContain('setImmediate(client[kResume])');
  expect(edited).not.toContain('socket[kSocketUsed]) {');
  expect(edited.length).toBeLessThan(source.length);
  expect(() => withoutYields('function resumeH1 () {}')).toThrow(/not once: update bench\/undici-no-yield\.ts/);
  const twice = source.replace('setImmediate(client[kResume])', 'setImmediate(client[kResume]); setImmediate(client[kResume])');
  expect(() => withoutYields(twice)).toThrow(/2 times \(the resume after an answer\)/);
});

/** In a child process (jest's own loader would bypass the hook): for 3 requests on one Client, was each written before `request()` returned? */
function writtenAtOnce(noYield: boolean): Promise<boolean[]> {
  const script = `
    require('./bench/target-preload');
    const http = require('node:http');
    const dc = require('node:diagnostics_channel');
    const { Client } = require('undici');
    let sent = 0;
    dc.subscribe('undici:client:sendHeaders', () => sent++);
    const server = http.createServer((_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1', async () => {
      const client = new Client('http://127.0.0.1:' + server.address().port);
      const atOnce = [];
      for (let i = 0; i < 3; i++) {
        const before = sent;
        const answer = client.request({ path: '/', method: 'GET' });
        atOnce.push(sent > before);
        await (await answer).body.text();
        await new Promise((resolve) => setTimeout(resolve, 20)); // the socket goes idle
      }
      await client.close();
      server.close();
      process.stdout.write(JSON.stringify(atOnce));
    });`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-e', script],
      { cwd: ROOT, timeout: 20_000, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', BENCH_UNDICI_NO_YIELD: noYield ? '1' : '0' } },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as boolean[])),
    );
  });
}

it('makes undici write on a reused socket at once; as installed, it waits', async () => {
  const [asInstalled, edited] = await Promise.all([writtenAtOnce(false), writtenAtOnce(true)]);
  // The first request waits for its connection either way; the 2nd and 3rd reuse the idle socket.
  expect(asInstalled).toEqual([false, false, false]);
  expect(edited).toEqual([false, true, true]);
}, 30_000);
