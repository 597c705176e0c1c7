// Prints the real token count of every corpus item, for the token estimator accuracy check:
//
//   node tests/tokenizer/count.mjs tests/tokenizer/corpus.jsonl > counts.tsv
//
// One line per item, in corpus order: id, o200k_base count, cl100k_base count (tab-separated).
// Text that looks like a special token ("<|endoftext|>") is counted as ordinary text.
import { readFileSync } from "node:fs";
import * as o200k from "gpt-tokenizer/encoding/o200k_base";
import * as cl100k from "gpt-tokenizer/encoding/cl100k_base";

const path = process.argv[2];
if (!path) {
    console.error("usage: node count.mjs <corpus.jsonl>");
    process.exit(2);
}
const plain = { disallowedSpecial: new Set() };
const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "");
let out = "";
for (const line of lines) {
    const { id, text } = JSON.parse(line);
    out += `${id}\t${o200k.countTokens(text, plain)}\t${cl100k.countTokens(text, plain)}\n`;
}
process.stdout.write(out);
