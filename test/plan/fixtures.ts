import { parseConfig, type RawConfig } from "../../src/config/parse";
import type { StackConfig } from "../../src/config/types";

export function cfg(raw: RawConfig = {}, stack = "dev"): StackConfig {
  return parseConfig(stack, { stage: 1, ...raw });
}
