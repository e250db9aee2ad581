#!/usr/bin/env node
/** The package's bin: `npx express-resurs-checkout doctor [--json] [--help]`. See src/doctor/cli-main.ts. */
import { cli } from '../doctor/cli-main';

cli(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then(
  (code) => {
    // Exit once the output is flushed; keep-alive sockets must not hold the process open.
    process.stdout.write('', () => process.exit(code));
  },
  () => process.exit(1),
);
