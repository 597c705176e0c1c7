// Prints the symbol tables of extension/core/token_estimate.cpp, read from the o200k_base
// vocabulary:
//   - the symbols (punctuation, pictographs, emoji) that are a single token on their own,
//   - those of them that stay a single token with a leading space,
//   - for the others, by block of 64 code points (the code points that share all but the last
//     UTF-8 byte, which is what byte-pair encoding sees): how many tokens they take (2 or 3) and
//     whether a leading space costs one more; only blocks other than "2, free space" are listed.
//
//   npm install --prefix tests/tokenizer && node tests/tokenizer/symbol_tables.mjs
import * as o200k from "gpt-tokenizer/encoding/o200k_base";

const plain = { disallowedSpecial: new Set() };
const count = (s) => o200k.encode(s, plain).length;
const ranges = [
    [0x80, 0x7ff], // two-byte symbols: Latin-1 signs (¿ « ° €...), other scripts' punctuation
    [0x2000, 0x2bff], // general punctuation, currency, arrows, maths, shapes, dingbats
    [0x3000, 0x303f], // CJK punctuation
    [0xfe10, 0xfe6f], // vertical and small forms
    [0xff01, 0xff65], // fullwidth punctuation
    [0x1f000, 0x1faff], // emoji and pictographs
];
const isSymbol = (s) => !/[\p{L}\p{N}\p{M}\s]/u.test(s) && !/\p{Cn}/u.test(s);

const single = [];
const spaced = [];
const blocks = new Map(); // block start -> [tokens, space extra] of its multi-token symbols
for (const [first, last] of ranges) {
    for (let cp = first; cp <= last; cp++) {
        const s = String.fromCodePoint(cp);
        if (!isSymbol(s)) continue;
        const alone = count(s);
        const withSpace = count(" " + s);
        if (alone === 1) {
            single.push(cp);
            if (withSpace === 1) spaced.push(cp);
            continue;
        }
        const block = cp & ~0x3f;
        if (!blocks.has(block)) blocks.set(block, []);
        blocks.get(block).push([alone, withSpace - alone]);
    }
}

// Invisible characters are written as escapes, the rest as themselves; 32 per line.
const char = (cp) => {
    const s = String.fromCodePoint(cp);
    if (!/[\p{C}\p{Z}]/u.test(s) && cp !== 0x2800) return s;
    return cp > 0xffff ? `\\U${cp.toString(16).padStart(8, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`;
};
const literal = (name, cps) => {
    const lines = [];
    for (let i = 0; i < cps.length; i += 32) lines.push(`    U"${cps.slice(i, i + 32).map(char).join("")}"`);
    return `constexpr std::u32string_view ${name} =\n${lines.join("\n")};`;
};

// The most common value of a block, then runs of adjacent blocks with the same values.
const mostCommon = (values) => {
    const n = new Map();
    for (const v of values) n.set(v, (n.get(v) ?? 0) + 1);
    return [...n.entries()].sort((a, b) => b[1] - a[1])[0][0];
};
const runs = [];
for (const block of [...blocks.keys()].sort((a, b) => a - b)) {
    const tokens = Math.min(3, mostCommon(blocks.get(block).map((v) => v[0])));
    const space = Math.min(1, Math.max(0, mostCommon(blocks.get(block).map((v) => v[1]))));
    const last = runs[runs.length - 1];
    if (last && last.end === block && last.tokens === tokens && last.space === space) {
        last.end = block + 0x40;
    } else {
        runs.push({ first: block, end: block + 0x40, tokens, space });
    }
}
const hex = (n) => `0x${n.toString(16).toUpperCase()}`;
const listed = runs.filter((r) => r.tokens !== 2 || r.space !== 0);

console.log(`// ${single.length} single-token symbols, ${spaced.length} of them absorbing a leading space`);
console.log(literal("kSingleTokenSymbols", single));
console.log(literal("kSpaceAbsorbingSymbols", spaced));
console.log("constexpr SymbolBlocks kSymbolBlocks[] = {");
for (const r of listed) console.log(`    {${hex(r.first)}, ${hex(r.end)}, ${r.tokens}, ${r.space}},`);
console.log("};");
