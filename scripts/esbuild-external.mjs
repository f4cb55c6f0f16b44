// The esbuild plugin every bundle of ours uses (scripts/build.mjs, the compiled benchmarks):
// our workspace code (@portal/*) is bundled, every third-party package stays external and is
// loaded from node_modules at run time.

/** Keep bare imports external unless they name one of our workspace packages. */
export const externalThirdParty = {
  name: "external-third-party",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("@portal/")) return undefined;
      return { path: args.path, external: true };
    });
  },
};
