import { LG401, LG402, LG403, LG404, LG406 } from "./advisories/rules.js";
import { LG501, LG502, LG503 } from "./cross-object/rules.js";
import { LG701 } from "./deletion/rules.js";
import { LG601, LG602, LG603 } from "./health/rules.js";
import { LG201, LG202, LG203, LG204, LG205, LG206, LG207, LG208, LG209 } from "./defaults/rules.js";
import { LG110, LG111, LG112, LG113, LG114, LG119 } from "./in-place/field-rules.js";
import { LG101, LG102, LG103, LG104, LG105, LG106 } from "./in-place/tag-rules.js";
import { LG301, LG302, LG303, LG304, LG305, LG306 } from "./structure/rules.js";
import type { Rule } from "./types.js";

/**
 * Every rule, in evaluation order. LG402 reports what the others bypassed, so it comes last.
 * docs/rules.md is generated from this list (`npm run docs:rules`) and a test fails when the two
 * disagree.
 */
export const RULES: readonly Rule[] = [
  LG101, LG102, LG103, LG104, LG105, LG106,
  LG110, LG111, LG112, LG113, LG114, LG119,
  LG201, LG202, LG203, LG204, LG205, LG206, LG207, LG208, LG209,
  LG301, LG302, LG303, LG304, LG305, LG306,
  LG401, LG403, LG404, LG406,
  LG501, LG502, LG503,
  LG601, LG602, LG603,
  LG701,
  LG402,
];
