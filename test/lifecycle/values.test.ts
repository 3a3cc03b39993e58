import { describe, expect, it } from "vitest";
import { firstDifference, formatPath } from "../../src/lifecycle/values.js";

describe("Empty semantics and first differences", () => {
  it.each([
    [undefined, null],
    [null, {}],
    [{}, []],
    [{ a: {} }, {}],
    [{ a: { b: [] } }, { a: null }],
    [{ a: 1, b: 2 }, { b: 2, a: 1 }],
  ])("%j equals %j", (a, b) => {
    expect(firstDifference(a, b)).toBeUndefined();
  });

  it.each([
    [{ a: 1 }, { a: 2 }, ["a"]],
    [{ a: [1, 2] }, { a: [2, 1] }, ["a", 0]],
    [{ a: [1] }, { a: [1, 2] }, ["a", 1]],
    [{}, { a: { b: { c: 1 } } }, ["a", "b", "c"]],
    [{ a: { b: 1 } }, {}, ["a", "b"]],
    ["1", 1, []],
    [0, null, []],
    ["", null, []],
  ])("%j vs %j differs at %j", (a, b, path) => {
    expect(firstDifference(a, b)).toEqual(path);
  });

  it("formats paths like Kubernetes field errors", () => {
    expect(formatPath(["spec", "installations", 0, "istioOperatorSpec", "hub"])).toBe("spec.installations[0].istioOperatorSpec.hub");
    expect(formatPath(["values", "annotations", "sidecar.istio.io/inject"])).toBe("values.annotations[sidecar.istio.io/inject]");
  });
});
