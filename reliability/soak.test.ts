import { rm } from "node:fs/promises";
import { Agent } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deniedUpdate, largeUpdate, review, typicalUpdate } from "../bench/fixtures.js";
import { fixture } from "../test/helpers/reviews.js";
import { postReview, startServerProcess, tlsFixture, type ServerProcess } from "../test/helpers/server-process.js";

const SOAK_MS = Number(process.env.SOAK_SECONDS ?? 60) * 1000;
let dir: string;
let ca: string;
let server: ServerProcess;

beforeAll(async () => {
  const tls = await tlsFixture("soak");
  dir = tls.dir;
  ca = tls.ca;
  server = await startServerProcess({ ...tls.env, LOG_LEVEL: "info" });
});
afterAll(async () => {
  server.child.kill("SIGTERM");
  await server.exited;
  await rm(dir, { recursive: true, force: true });
});

describe("soak", () => {
  it(`answers ${SOAK_MS / 1000} s of mixed reviews without an error, and its memory levels off`, async () => {
    const pod = fixture("kubewarden-policy-server.pod_create.review.v1.json");
    // The mix a GitOps controller sends: mostly unchanged or patch-upgraded lifecycle managers,
    // some denied edits, other kinds, the odd large object, and the odd broken request.
    const mix: { body: (i: number) => string; expect: (a: { status: number; body: string }, uid: string) => boolean; weight: number }[] = [
      { weight: 50, body: (i) => review(typicalUpdate(), `t-${i}`), expect: (a, uid) => a.status === 200 && JSON.parse(a.body).response.uid === uid && JSON.parse(a.body).response.allowed === true },
      { weight: 20, body: (i) => review(deniedUpdate(), `d-${i}`), expect: (a, uid) => a.status === 200 && JSON.parse(a.body).response.uid === uid && JSON.parse(a.body).response.status.code === 403 && JSON.parse(a.body).response.status.reason === "Forbidden" },
      { weight: 20, body: (i) => JSON.stringify({ ...pod, request: { ...(pod.request as object), uid: `p-${i}` } }), expect: (a, uid) => a.status === 200 && JSON.parse(a.body).response.uid === uid },
      { weight: 1, body: (i) => review(largeUpdate(512 * 1024), `l-${i}`), expect: (a, uid) => a.status === 200 && JSON.parse(a.body).response.uid === uid },
      { weight: 9, body: () => '{"kind":"AdmissionReview"', expect: (a) => a.status === 400 },
    ];
    const total = mix.reduce((n, m) => n + m.weight, 0);
    const pick = (i: number) => {
      let r = (i * 7919) % total;
      for (const m of mix) if ((r -= m.weight) < 0) return m;
      return mix[0] as (typeof mix)[number];
    };

    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const rss: { atS: number; mib: number }[] = [];
    const started = Date.now();
    const sampler = setInterval(() => rss.push({ atS: (Date.now() - started) / 1000, mib: server.rssMiB() }), 2000);
    let sent = 0;
    const failures: string[] = [];
    const worker = async (): Promise<void> => {
      while (Date.now() - started < SOAK_MS) {
        const i = sent++;
        const m = pick(i);
        const uid = JSON.parse(m.body(i).slice(0, 0) || "null") ?? "";
        const body = m.body(i);
        const expectedUid = (/"uid":"([^"]+)"/.exec(body)?.[1] ?? uid) as string;
        try {
          const answer = await postReview(server.port, body, { ca, agent });
          if (!m.expect(answer, expectedUid)) failures.push(`${expectedUid}: ${answer.status} ${answer.body.slice(0, 120)}`);
        } catch (error) {
          failures.push(`${expectedUid}: ${(error as Error).message}`);
        }
        // About 250 reviews per second in all: a busy GitOps controller, not a load test.
        await new Promise((r) => setTimeout(r, 15));
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    clearInterval(sampler);
    agent.destroy();

    const secondHalf = rss.filter((s) => s.atS >= SOAK_MS / 2000);
    const firstOfSecondHalf = secondHalf[0]?.mib ?? 0;
    const peakSecondHalf = Math.max(...secondHalf.map((s) => s.mib));
    console.log(
      `soak: ${sent} reviews in ${(Date.now() - started) / 1000} s, ${failures.length} failures; RSS MiB: ${rss.map((s) => s.mib.toFixed(0)).join(" ")}`,
    );
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan((SOAK_MS / 1000) * 100);
    // No steady growth: over the second half, memory stays within 15 MiB of where it stood.
    expect(peakSecondHalf - firstOfSecondHalf).toBeLessThan(15);
  });
});
