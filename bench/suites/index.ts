/** Every suite `npm run bench -- <name>` can run. A new suite is a file here plus one entry. */
import type { Suite } from "../suite.js";
import { attentionSuite } from "./attention.js";
import { engineSuite } from "./engine.js";
import { lstmSuite } from "./lstm.js";
import { memorySuite } from "./memory.js";

export const SUITES: readonly Suite[] = [engineSuite, lstmSuite, attentionSuite, memorySuite];
