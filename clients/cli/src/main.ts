/**
 * The `herald` executable.
 *
 * Libraries, each small, widely used and maintained:
 * - commander (^14, the last line that supports Node 20; 15 needs Node 22) parses
 *   commands, options and their values, and writes help and usage errors;
 * - cli-table3 draws the tables (a maintained fork of cli-table, no native code);
 * - cli-progress draws the progress bar of long publishes and pulls.
 * Herald's own SDK (`@herald/client`) makes every call except Tail, which it does
 * not wrap: that one uses the generated `DispatcherServiceClient` of `@herald/api`.
 */
import { processTerminal, run } from './program';

void run(process.argv.slice(2), { terminal: processTerminal() }).then((code) => {
  process.exitCode = code;
});
