#!/usr/bin/env node
// carls is written in TypeScript and runs through tsx (a dependency), without a build step.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
