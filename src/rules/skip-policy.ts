import { shown } from "../lifecycle/text.js";
import type { SkipPolicyDecision } from "./types.js";

/**
 * Operator policy for `skipUpgradeValidation`. Gloo honors the flag, so by default the webhook
 * does too; but GitOps repositories often set it permanently, which silently disables every
 * rule, so the operator can ignore it, or honor it only for listed users or groups.
 */
export interface SkipPolicy {
  readonly mode: "honor" | "ignore";
  /** When either list is non-empty, the flag is honored only for these users or groups. */
  readonly users: readonly string[];
  readonly groups: readonly string[];
}

export const HONOR_SKIP: SkipPolicy = { mode: "honor", users: [], groups: [] };

export interface RequestUser {
  readonly username?: string;
  readonly groups?: readonly string[];
}

export function decideSkipPolicy(policy: SkipPolicy, user: RequestUser | undefined): SkipPolicyDecision {
  if (policy.mode === "ignore") return { honored: false, reason: "this webhook ignores it" };
  if (policy.users.length === 0 && policy.groups.length === 0) return { honored: true };
  const allowedUser = user?.username !== undefined && policy.users.includes(user.username);
  const allowedGroup = (user?.groups ?? []).some((g) => policy.groups.includes(g));
  if (allowedUser || allowedGroup) return { honored: true };
  return { honored: false, reason: `it is honored only for listed users and groups, and ${user?.username === undefined ? "this user" : shown(user.username)} is not one of them` };
}
