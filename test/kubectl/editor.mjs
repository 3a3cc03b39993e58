#!/usr/bin/env node
// KUBE_EDITOR for the kubectl scenarios. First call: replace EDIT_FROM with EDIT_TO in the file
// kubectl opened. Every later call (the editor reopened after a denial): append what kubectl
// showed to EDIT_LOG and save nothing, so kubectl ends the edit with nothing stored.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";

const file = process.argv[process.argv.length - 1];
const log = process.env.EDIT_LOG;
const counter = `${log}.count`;
const calls = existsSync(counter) ? Number(readFileSync(counter, "utf8")) : 0;
writeFileSync(counter, String(calls + 1));
const text = readFileSync(file, "utf8");
if (calls === 0) {
  if (!text.includes(process.env.EDIT_FROM)) throw new Error(`editor: ${process.env.EDIT_FROM} not in ${file}`);
  writeFileSync(file, text.replace(process.env.EDIT_FROM, process.env.EDIT_TO));
} else {
  appendFileSync(log, `${text}\n--- reopened ---\n`);
}
