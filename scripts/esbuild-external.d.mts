import type { Plugin } from "esbuild";

/** esbuild plugin: bundle the workspace's own packages, leave third-party packages external. */
export declare const externalThirdParty: Plugin;
