"""Generate extra parity fixtures from the Python reference (same format as
../shared/fixtures/minigrid, without the RNG draw count), for ids/seeds the golden set lacks.

Usage (writes OUTDIR/<env_id>.json, then compare with the TS port):
  PYTHONPATH=/work/ref python3 lib/env/parity_gen.py IDS SEEDS STEPS [OUTDIR [KWARGS_JSON]]
  deno task parity --fixtures OUTDIR
IDS: comma-separated env ids; SEEDS: comma-separated ints; STEPS: max random steps per episode.
Actions: np.random.default_rng(1000000 + seed).integers(0, n) per step, as in the golden set.
"""
import json, sys, warnings
warnings.filterwarnings("ignore")
import numpy as np, gymnasium as gym, minigrid
minigrid.register_minigrid_envs()

def rng_state(env):
    st = env.np_random.bit_generator.state
    return {"state": hex(st["state"]["state"]), "inc": hex(st["state"]["inc"]), "has_uint32": st["has_uint32"], "uinteger": st["uinteger"]}

def enc_carry(env):
    return list(map(int, env.carrying.encode())) if env.carrying else None

ids = sys.argv[1].split(",")
seeds = [int(s) for s in sys.argv[2].split(",")]
nsteps = int(sys.argv[3])
outdir = sys.argv[4] if len(sys.argv) > 4 else "/tmp/extra"
import os
os.makedirs(outdir, exist_ok=True)
kwargs = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
for id_ in ids:
    env = gym.make(id_, **kwargs).unwrapped
    n = env.action_space.n
    eps = []
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        reset = {"width": env.width, "height": env.height, "grid": env.grid.encode().flatten().tolist(),
                 "agent_pos": list(map(int, env.agent_pos)), "agent_dir": int(env.agent_dir), "mission": env.mission,
                 "max_steps": env.max_steps, "image": obs["image"].flatten().tolist(), "direction": int(obs["direction"]),
                 "carrying": enc_carry(env), "rng_after_reset": rng_state(env), "rng_u64_draws_after_reset": -1}
        obs, _ = env.reset(seed=seed)
        ar = np.random.default_rng(1000000 + seed)
        tr = {k: [] for k in ["actions", "images", "directions", "rewards", "terminated", "truncated", "agent_pos", "agent_dir", "carrying", "grid_diff"]}
        prev = env.grid.encode()
        for k in range(nsteps):
            a = int(ar.integers(0, n))
            obs, r, term, trunc, _ = env.step(a)
            cur = env.grid.encode()
            d = np.argwhere((cur != prev).any(axis=2))
            tr["grid_diff"].append([[int(x), int(y), *map(int, cur[x, y])] for x, y in d])
            prev = cur
            tr["actions"].append(a); tr["images"] += obs["image"].flatten().tolist(); tr["directions"].append(int(obs["direction"]))
            tr["rewards"].append(float(r)); tr["terminated"].append(int(term)); tr["truncated"].append(int(trunc))
            tr["agent_pos"] += list(map(int, env.agent_pos)); tr["agent_dir"].append(int(env.agent_dir)); tr["carrying"].append(enc_carry(env))
            if term or trunc: break
        tr["steps"] = len(tr["actions"]); tr["final_grid"] = env.grid.encode().flatten().tolist(); tr["rng_after"] = rng_state(env)
        eps.append({"seed": seed, "reset": reset, "random": tr})
    json.dump({"env_id": id_, "meta": {}, "config": {"extra_kwargs": kwargs}, "seeds": seeds, "episodes": eps}, open(f"{outdir}/{id_}.json", "w"))
    print(id_, "ok", flush=True)
