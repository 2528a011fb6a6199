#!/usr/bin/env node
// The `herald` command: runs the built entry point (`make build` or `npx tsc -b` makes it).
import '../dist/src/main.js';
