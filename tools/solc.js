#!/usr/bin/env node
// solc for forge, backed by the pinned npm solcjs (forge cannot download native solc offline).
// forge only asks for `--version` and `--standard-json` (input on stdin, output on stdout).
// Never call process.exit() after writing: it truncates piped stdout at 64 KiB.
"use strict";
const solc = require("solc");

const args = process.argv.slice(2);
if (args.includes("--version")) {
  const v = solc.version(); // e.g. 0.8.28+commit.7893614a.Emscripten.clang
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${v}\n`);
} else if (args.includes("--standard-json")) {
  const chunks = [];
  process.stdin.on("data", (c) => chunks.push(c));
  process.stdin.on("end", () => {
    const input = Buffer.concat(chunks).toString("utf8");
    process.stdout.write(solc.compile(input, { import: findImport }));
  });
} else {
  process.stderr.write("tools/solc.js: only --version and --standard-json are supported\n");
  process.exitCode = 2;
}

// forge passes sources inline, so a missing import means a remapping is wrong: say which file.
function findImport(path) {
  return { error: `tools/solc.js: source not provided by forge: ${path}` };
}
