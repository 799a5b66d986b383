// Study files' pre-registered endpoints and named contrasts (issue 25): `primary:` keys checked
// against the metric catalogue, `contrasts:` against the variant names, errors with file:line.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { loadAblation } from "../lib/experiment/ablation.ts";
import { ConfigError } from "../lib/experiment/config_errors.ts";
import { knownStudies, studyFile } from "../lib/experiment/ablate.ts";

const HEAD = `ablation: t
base: ../../../configs/experiments/cell_masking.yaml
baseline: sft
variants:
  - {name: sft, set: {masking.strategy: next_action}}
  - {name: cell, set: {masking.ratio: 0.3}}
  - {name: fwd, set: {masking.strategy: forward_dynamics}}
`;

function study(body: string): string {
  const dir = Deno.makeTempDirSync({ prefix: "endpoints-", dir: join(Deno.cwd(), "tests") });
  Deno.mkdirSync(join(dir, "abl"));
  const f = join(dir, "abl", "s.yaml");
  Deno.writeTextFileSync(f, HEAD + body);
  return f;
}

function errorOf(f: string): ConfigError {
  try {
    loadAblation(f, { profile: "smoke" });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

function cleanup(f: string) {
  Deno.removeSync(join(f, "..", ".."), { recursive: true });
}

Deno.test("primary and contrasts: parsed, aliases resolved, defaults without contrasts", () => {
  const f = study(`primary: [success_rate, next_frame.changed_acc, obs_nll.per_frame]
contrasts:
  - { question: "Does masking help the policy?", variant: cell, baseline: sft }
  - { question: "World model vs forward dynamics", variant: cell, baseline: fwd }
`);
  try {
    const a = loadAblation(f, { profile: "smoke" });
    assert.deepEqual(a.primary, [
      "success_rate",
      "next_frame.changed_cell_acc",
      "obs_nll.per_frame",
    ]);
    assert.equal(a.contrasts.length, 2);
    assert.deepEqual(a.contrasts[1], {
      question: "World model vs forward dynamics",
      variant: "cell",
      baseline: "fwd",
    });
    assert.equal(a.contrastsGiven, true);
  } finally {
    cleanup(f);
  }
  const g = study("");
  try {
    const a = loadAblation(g, { profile: "smoke" });
    assert.deepEqual(a.primary, []);
    assert.deepEqual(a.contrasts.map((c) => `${c.variant}-${c.baseline}`), ["cell-sft", "fwd-sft"]);
    assert.equal(a.contrastsGiven, false);
  } finally {
    cleanup(g);
  }
});

Deno.test("primary and contrasts: unknown keys and variants are errors at their line", () => {
  const cases: [string, number, RegExp][] = [
    ["primary: [success_rate, obs_nll.per_frme]\n", 8, /did you mean 'obs_nll\.per_frame'/],
    ["primary: success_rate\n", 8, /expected a list of metric keys/],
    ["primary: [action_acc, action_acc]\n", 8, /listed twice/],
    [
      "contrasts:\n  - { question: q, variant: cel, baseline: sft }\n",
      9,
      /'cel' is not a variant name \(did you mean 'cell'\?\)/,
    ],
    ["contrasts:\n  - { question: q, variant: cell }\n", 9, /contrasts\.0\.baseline: missing key/],
    ["contrasts:\n  - { question: q, variant: cell, baseline: cell }\n", 9, /two different/],
    ["contrasts:\n  - { question: q, variant: cell, baseline: sft, why: x }\n", 9, /unknown key/],
    ["primry: [success_rate]\n", 8, /did you mean 'primary'/],
  ];
  for (const [body, line, re] of cases) {
    const f = study(body);
    try {
      const e = errorOf(f);
      assert.match(e.message, re, body);
      assert.match(e.message, new RegExp(`s\\.yaml:${line}:`), `${body}: ${e.message}`);
    } finally {
      cleanup(f);
    }
  }
});

Deno.test("exp1..exp4 pre-register primary endpoints that are catalogue keys", () => {
  for (const name of knownStudies().filter((n) => /^exp[1-4]_/.test(n))) {
    const a = loadAblation(studyFile(name), { profile: "smoke" });
    assert.ok(a.primary.length > 0, `${name} pre-registers its primary endpoints`);
  }
});
