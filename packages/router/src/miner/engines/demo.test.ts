import { encode } from "gpt-tokenizer";
import { describe, expect, it } from "vitest";
import { DEMO_VOCABULARY, DemoEngine, demoWords } from "./demo.js";

const req = { model: "demo", prompt: "hello", max_tokens: 100 };

describe("demo engine", () => {
  it("every vocabulary word is one BPE token with its leading space", () => {
    for (const w of DEMO_VOCABULARY) expect(encode(` ${w}`), w).toHaveLength(1);
  });

  it("is deterministic in prompt and parameters", () => {
    expect(demoWords(req)).toEqual(demoWords(req));
    expect(demoWords(req).words).not.toEqual(demoWords({ ...req, prompt: "hello!" }).words);
    expect(demoWords(req).words).not.toEqual(demoWords({ ...req, temperature: 0.9 }).words);
  });

  it("respects max_tokens and says length when it cuts", async () => {
    const engine = new DemoEngine(0);
    const tokens: string[] = [];
    const cut = await engine.generate(
      { ...req, max_tokens: 3 },
      (t) => tokens.push(t),
      new AbortController().signal,
    );
    expect(cut.finish_reason).toBe("length");
    expect(tokens).toHaveLength(3);
    expect(encode(cut.text)).toHaveLength(3);
    expect(cut.text).toBe(tokens.join(""));
    const full = await engine.generate(req, () => {}, new AbortController().signal);
    expect(full.finish_reason).toBe("stop");
    expect(full.text.startsWith(cut.text)).toBe(true);
    expect(full.usage).toBeUndefined();
  });

  it("stops when aborted", async () => {
    const engine = new DemoEngine(5);
    const ac = new AbortController();
    const run = engine.generate(req, () => ac.abort(), ac.signal);
    await expect(run).rejects.toThrow("aborted");
  });
});
