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

  it("ends the text before the first stop sequence, also when it spans two words", async () => {
    const engine = new DemoEngine(0);
    const full = await engine.generate(req, () => {}, new AbortController().signal);
    const words = full.text.split(" ").filter(Boolean);
    // A stop made of the end of word 3 and the start of word 4 (it spans the pieces).
    const w3 = words[3] as string;
    const w4 = words[4] as string;
    const spanning = `${w3.slice(-2)} ${w4.slice(0, 2)}`;
    for (const stop of [[` ${words[5]}`], [spanning, "never-there"]]) {
      const tokens: string[] = [];
      const r = await engine.generate(
        { ...req, stop },
        (t) => tokens.push(t),
        new AbortController().signal,
      );
      const at = Math.min(...stop.map((x) => full.text.indexOf(x)).filter((i) => i >= 0));
      expect(r).toMatchObject({ finish_reason: "stop", text: full.text.slice(0, at) });
      expect(tokens.join("")).toBe(r.text);
      for (const x of stop) expect(r.text).not.toContain(x);
    }
    // Stops that never occur change nothing.
    const same = await engine.generate(
      { ...req, stop: ["zzz"] },
      () => {},
      new AbortController().signal,
    );
    expect(same.text).toBe(full.text);
  });

  it("stops when aborted", async () => {
    const engine = new DemoEngine(5);
    const ac = new AbortController();
    const run = engine.generate(req, () => ac.abort(), ac.signal);
    await expect(run).rejects.toThrow("aborted");
  });
});
