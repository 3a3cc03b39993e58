import { describe, expect, it } from "vitest";
import { escapeText, MAX_VALUE_CHARACTERS, shown } from "../../src/lifecycle/text.js";

const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

describe("escaping untrusted text", () => {
  it("escapes every control, format, surrogate and separator code point of the BMP (the fast pre-check misses none)", () => {
    const missed: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      const char = String.fromCharCode(code);
      if (!UNSAFE.test(char)) continue;
      const escaped = escapeText(`a${char}b`);
      if (escaped !== `a\\u${code.toString(16).padStart(4, "0")}b`) missed.push(code.toString(16));
    }
    expect(missed).toEqual([]);
  });

  it("escapes astral format characters and lone surrogates, and leaves other text alone", () => {
    expect(escapeText("tag\u{E0041}x")).toBe("tag\\udb40\\udc41x");
    expect(escapeText("x\ud800")).toBe("x\\ud800");
    expect(escapeText("1.24.2-solo → ünïcödé 日本 🙂")).toBe("1.24.2-solo → ünïcödé 日本 🙂");
  });

  it("cuts long values on a code point with …, and only reads their head", () => {
    const cut = shown(`${"a".repeat(62)}🙂🙂🙂`);
    expect(cut.endsWith("…")).toBe(true);
    expect(cut.length).toBeLessThanOrEqual(MAX_VALUE_CHARACTERS);
    expect(cut).not.toMatch(/[\ud800-\udbff]…$/);
    expect(shown("x".repeat(10_000_000)).length).toBe(MAX_VALUE_CHARACTERS);
  });
});
