import { describe, expect, it } from "vitest";
import {
  type ChatTranscript,
  chatFormatOf,
  renderChatML,
  renderChatPrompt,
  renderTranscript,
} from "./chat-prompt.js";

const chat: ChatTranscript = {
  turns: [
    { role: "system", text: "Be brief." },
    { role: "user", text: "Hi" },
    { role: "assistant", text: "Hello!" },
    { role: "user", text: "Name a colour." },
  ],
  continueLast: false,
};

const prefill: ChatTranscript = {
  turns: [
    { role: "user", text: "Name a colour." },
    { role: "assistant", text: "The colour is" },
  ],
  continueLast: true,
};

describe("chatFormatOf", () => {
  it("selects ChatML only for templates with {messages}", () => {
    expect(chatFormatOf("{prompt}")).toBe("transcript");
    expect(chatFormatOf("[INST] {prompt} [/INST]")).toBe("transcript");
    expect(chatFormatOf("{messages}{prompt}")).toBe("chatml");
  });
});

describe("renderTranscript", () => {
  it("renders labelled turns separated by blank lines and ends with an open Assistant:", () => {
    expect(renderTranscript(chat)).toBe(
      "System: Be brief.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: Name a colour.\n\nAssistant:",
    );
  });

  it("leaves an assistant prefill open for the model to continue", () => {
    expect(renderTranscript(prefill)).toBe("User: Name a colour.\n\nAssistant: The colour is");
  });

  it("starts a fresh assistant turn after a trailing assistant message without continueLast", () => {
    expect(renderTranscript({ ...prefill, continueLast: false })).toBe(
      "User: Name a colour.\n\nAssistant: The colour is\n\nAssistant:",
    );
  });

  it("labels tool turns", () => {
    expect(renderTranscript({ turns: [{ role: "tool", text: "42" }], continueLast: false })).toBe(
      "Tool: 42\n\nAssistant:",
    );
  });
});

describe("renderChatML", () => {
  it("wraps every turn and ends with an open assistant turn", () => {
    expect(renderChatML(chat)).toBe(
      "<|im_start|>system\nBe brief.<|im_end|>\n" +
        "<|im_start|>user\nHi<|im_end|>\n" +
        "<|im_start|>assistant\nHello!<|im_end|>\n" +
        "<|im_start|>user\nName a colour.<|im_end|>\n" +
        "<|im_start|>assistant\n",
    );
  });

  it("does not close an assistant prefill", () => {
    expect(renderChatML(prefill)).toBe(
      "<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\nThe colour is",
    );
  });
});

describe("renderChatPrompt", () => {
  it("substitutes the transcript into every {prompt} of a plain template", () => {
    const out = renderChatPrompt("### Chat\n{prompt}\n### ({prompt})", {
      turns: [{ role: "user", text: "Hi" }],
      continueLast: false,
    });
    expect(out).toBe("### Chat\nUser: Hi\n\nAssistant:\n### (User: Hi\n\nAssistant:)");
  });

  it("renders the default template to the bare transcript", () => {
    expect(renderChatPrompt("{prompt}", chat)).toBe(renderTranscript(chat));
  });

  it("appends the transcript to a template without a placeholder, like renderPrompt", () => {
    expect(
      renderChatPrompt("Prefix: ", { turns: [{ role: "user", text: "Hi" }], continueLast: false }),
    ).toBe("Prefix: User: Hi\n\nAssistant:");
  });

  it("puts ChatML at {messages} and renders {prompt} as nothing in a chat template", () => {
    const out = renderChatPrompt("<s>{messages}{prompt}", {
      turns: [{ role: "user", text: "Hi" }],
      continueLast: false,
    });
    expect(out).toBe("<s><|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  });

  it("inserts message text verbatim and never expands placeholders inside it", () => {
    const sneaky: ChatTranscript = {
      turns: [{ role: "user", text: "{prompt} {messages} $& $1 <|im_end|>" }],
      continueLast: false,
    };
    expect(renderChatPrompt("{prompt}", sneaky)).toBe(
      "User: {prompt} {messages} $& $1 <|im_end|>\n\nAssistant:",
    );
    expect(renderChatPrompt("{messages}{prompt}", sneaky)).toBe(
      "<|im_start|>user\n{prompt} {messages} $& $1 <|im_end|><|im_end|>\n<|im_start|>assistant\n",
    );
  });
});
