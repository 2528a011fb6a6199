// Runs one of the TypeScript examples against a running Herald, with Node's own type stripping
// (Node 24; no build step):
//
//   node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON run.mjs publish-and-receive
//
// Addresses come from HERALD_REGISTRY, HERALD_PUBLISHER and HERALD_DISPATCHER (comma-separated
// host:port), by default those of `make up` (127.0.0.1:50052, :50051, :50053). Node does not strip
// types under node_modules: copy the examples out of the installed package first (see the README).
const examples = {
  'publish-and-receive': ['./publish-and-receive.ts', 'publishAndReceive'],
  'ordered-with-callbacks': ['./ordered-with-callbacks.ts', 'orderedWithCallbacks'],
};

const name = process.argv[2];
if (!examples[name]) {
  console.error(`usage: node run.mjs ${Object.keys(examples).join(' | ')}`);
  process.exit(2);
}
const [file, exported] = examples[name];
const list = (variable, fallback) => (process.env[variable] ?? fallback).split(',').filter(Boolean);
const endpoints = {
  registry: list('HERALD_REGISTRY', '127.0.0.1:50052'),
  publisher: list('HERALD_PUBLISHER', '127.0.0.1:50051'),
  dispatcher: list('HERALD_DISPATCHER', '127.0.0.1:50053'),
};
const run = (await import(file))[exported];
console.log(JSON.stringify(await run(endpoints)));
