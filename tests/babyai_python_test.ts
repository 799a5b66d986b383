/**
 * Opt-in cross-check against the live Python reference on seeds beyond the fixtures, for ALL
 * 96 BabyAI ids: reset state (mission, grid, agent, max_steps, carrying, rejection count, PCG64
 * state) and the whole bot episode (actions, final reward, error), plain and with 25% random
 * actions (exercising the bot's replanning after off-plan actions). Runs only when
 * MINIGRID_PYTHON is set to a command running a Python with minigrid importable, e.g.
 * `MINIGRID_PYTHON="env PYTHONPATH=/work/ref python3" deno test -A tests/babyai_python_test.ts`.
 * BABYAI_XCHECK_SEEDS (default 3) sets the seeds per id (0..N-1).
 */
import { ok as assert } from "node:assert";
import { make } from "../lib/env/registry.ts";
import { Generator } from "../lib/env/rng.ts";
import { BabyAIBot, BotError, type RoomGridLevel } from "../lib/env/babyai/mod.ts";

const PY = Deno.env.get("MINIGRID_PYTHON");
const NSEEDS = Number(Deno.env.get("BABYAI_XCHECK_SEEDS") ?? "3");

// The reference bot can loop forever inside one replan; both sides stop after the same number
// of subgoal updates (MAX_REPLAN_ITERS) and report "BotLoopError".
const SCRIPT = `
import gymnasium as gym, minigrid, json, sys, io, contextlib
from minigrid.utils.baby_ai_bot import BabyAIBot
import minigrid.utils.baby_ai_bot as M
class BotLoopError(Exception): pass
CNT = [0]
_replan = BabyAIBot.replan
def replan(self, a=None):
    CNT[0] = 0
    return _replan(self, a)
BabyAIBot.replan = replan
def wrap(f):
    def g(self):
        CNT[0] += 1
        if CNT[0] > 1000: raise BotLoopError("replan did not converge")
        return f(self)
    return g
for c in [M.GoNextToSubgoal, M.OpenSubgoal, M.ExploreSubgoal, M.PickupSubgoal, M.DropSubgoal, M.CloseSubgoal]:
    c.replan_before_action = wrap(c.replan_before_action)
import numpy as np
nseeds = int(sys.argv[1]); eps = float(sys.argv[2])
for envid in sorted(i for i in gym.registry if i.startswith("BabyAI-")):
    env = gym.make(envid); u = env.unwrapped
    for seed in range(nseeds):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            env.reset(seed=seed)
        rec = {"id": envid, "seed": seed, "mission": u.mission, "max_steps": u.max_steps,
               "agent": [int(u.agent_pos[0]), int(u.agent_pos[1]), int(u.agent_dir)],
               "grid": "".join(chr(48 + v) for v in u.grid.encode().flatten().tolist()),
               "rej": buf.getvalue().count("\\n"), "rng": hex(u.np_random.bit_generator.state["state"]["state"]),
               "carrying": None if u.carrying is None else list(map(int, u.carrying.encode()))}
        bot = BabyAIBot(env); acts = []; err = None; last = None; rew = 0.0
        noise = np.random.default_rng(seed + 777)
        for k in range(u.max_steps):
            try:
                a = bot.replan(last)
            except Exception as e:
                err = type(e).__name__ + ": " + str(e); break
            if eps > 0 and noise.uniform(0, 1) < eps: a = int(noise.integers(0, 7))
            _, r, term, trunc, _ = env.step(a)
            acts.append(int(a)); last = a; rew = r
            if term or trunc: break
        rec["bot"] = acts; rec["err"] = err; rec["rew"] = rew
        print(json.dumps(rec), flush=True)
`;

interface Rec {
  id: string;
  seed: number;
  mission: string;
  max_steps: number;
  agent: number[];
  grid: string;
  rej: number;
  rng: string;
  carrying: number[] | null;
  bot: number[];
  err: string | null;
  rew: number;
}

function compare(env: RoomGridLevel, r: Rec, eps: number): string[] {
  const msgs: string[] = [];
  env.reset({ seed: r.seed });
  if (env.mission !== r.mission) {
    msgs.push(`mission ${JSON.stringify(env.mission)} vs ${JSON.stringify(r.mission)}`);
  }
  if (env.maxSteps !== r.max_steps) msgs.push(`max_steps ${env.maxSteps} vs ${r.max_steps}`);
  const a = [env.agentX, env.agentY, env.agentDir];
  if (a.join() !== r.agent.join()) msgs.push(`agent ${a} vs ${r.agent}`);
  const g = Array.from(env.encodeGrid(), (v) => String.fromCharCode(48 + v)).join("");
  if (g !== r.grid) msgs.push("grid differs");
  if (env.genRejections !== r.rej) msgs.push(`rejections ${env.genRejections} vs ${r.rej}`);
  if ("0x" + env.rng.getState().state.toString(16) !== r.rng) msgs.push("rng state differs");
  const c = env.carrying === null ? null : env.carrying.encode();
  if (JSON.stringify(c) !== JSON.stringify(r.carrying)) msgs.push(`carrying ${c} vs ${r.carrying}`);
  if (msgs.length > 0) return msgs;
  const bot = new BabyAIBot(env);
  const noise = new Generator(r.seed + 777);
  const acts: number[] = [];
  let err: string | null = null, last: number | null = null, rew = 0;
  for (let k = 0; k < env.maxSteps; k++) {
    let act: number;
    try {
      act = bot.replan(last);
    } catch (e) {
      if (!(e instanceof BotError)) throw e;
      err = e.pyType === "BotLoopError" ? "BotLoopError: replan did not converge" : e.pythonText;
      break;
    }
    if (eps > 0 && noise.uniform(0, 1) < eps) act = noise.integers(0, 7);
    const s = env.step(act);
    acts.push(act);
    last = act;
    rew = s.reward;
    if (s.terminated || s.truncated) break;
  }
  if (acts.join() !== r.bot.join()) {
    let k = 0;
    while (acts[k] === r.bot[k]) k++;
    msgs.push(`bot actions differ at step ${k} (lengths ${acts.length} vs ${r.bot.length})`);
  }
  if (err !== r.err) msgs.push(`bot error ${err} vs ${r.err}`);
  if (!Object.is(rew, r.rew) && !(rew === 0 && r.rew === 0)) {
    msgs.push(`final reward ${rew} vs ${r.rew}`);
  }
  return msgs;
}

for (const eps of [0, 0.25]) {
  Deno.test({
    name: `babyai vs live Python: every BabyAI id, seeds 0..${NSEEDS - 1}, reset + ${
      eps
        ? `noisy bot episode (eps ${eps}: the bot is told the action actually taken)`
        : "bot episode"
    }`,
    ignore: !PY,
    fn: async () => {
      const path = await Deno.makeTempFile({ suffix: ".py" });
      try {
        await Deno.writeTextFile(path, SCRIPT);
        const out = await new Deno.Command("sh", {
          args: ["-c", `${PY} ${path} ${NSEEDS} ${eps}`],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        assert(out.code === 0, `python failed: ${stderr.slice(-2000)}`);
        const recs = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) =>
          JSON.parse(l) as Rec
        );
        assert(recs.length === 96 * NSEEDS, `expected ${96 * NSEEDS} records, got ${recs.length}`);
        const envs = new Map<string, RoomGridLevel>();
        const bad: string[] = [];
        for (const r of recs) {
          let env = envs.get(r.id);
          if (!env) envs.set(r.id, env = make(r.id) as RoomGridLevel);
          const m = compare(env, r, eps);
          if (m.length) bad.push(`${r.id} seed ${r.seed}: ${m.join("; ")}`);
        }
        assert(bad.length === 0, `${bad.length} episodes differ:\n${bad.slice(0, 20).join("\n")}`);
      } finally {
        await Deno.remove(path);
      }
    },
  });
}
