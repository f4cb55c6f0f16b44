#!/usr/bin/env node
// The `portal` bin: runs the TypeScript CLI through tsx (as `npm start` runs the gateway).
import { register } from "tsx/esm/api";

register();
await import("./main.ts");
