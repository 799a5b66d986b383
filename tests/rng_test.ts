import { deepStrictEqual, strictEqual as assertEquals } from "node:assert";
import { Generator, PCG64, SeedSequence } from "../lib/env/rng.ts";
import { FIXTURES_DIR, readFixtureJson } from "../lib/env/parity.ts";
const hex = (a: ArrayLike<number>) =>
  Array.from(a, (v) => v.toString(16).padStart(8, "0")).join(" ");

Deno.test("SeedSequence pool and generate_state match numpy (seeds 0, 42)", () => {
  const s0 = new SeedSequence(0);
  assertEquals(hex(s0.pool), "fe40eb07 4f363a36 4eb2009d c89a7aa7");
  assertEquals(
    hex(s0.generateState(8)),
    "b0f478be db2cd7e7 2c71ba49 abf4641a 9d7b8d41 20c6ed6d 223c39d4 2c4099de",
  );
  const s42 = new SeedSequence(42);
  assertEquals(hex(s42.pool), "631d3606 07ae90ae 6fc4be28 2ced5c75");
  assertEquals(
    hex(s42.generateState(8)),
    "cd540ab7 9f1e2e6d 79fb94b6 d57873dc 64d420b7 7d282a1b 4692d5ff 33657971",
  );
});

Deno.test("PCG64 seeding state/inc and random_raw", () => {
  const p0 = new PCG64(0);
  const st = p0.getState();
  assertEquals(st.state, 0x1aa1b5345996452d09585eb7a69561e3n);
  assertEquals(st.inc, 0x418ddadb3af71a82588133bc447873a9n);
  deepStrictEqual(
    [p0.nextUint64(), p0.nextUint64(), p0.nextUint64()],
    [11749869230777074271n, 4976686463289251617n, 755828109848996024n],
  );
  assertEquals(p0.draws, 3);
  const p42 = new PCG64(42);
  assertEquals(p42.getState().state, 0xcea44f6798798f2aacbc7c9d68860ac8n);
  assertEquals(p42.getState().inc, 0xfa505436c9a8416e66caf2e28d25abffn);
  deepStrictEqual(
    [p42.nextUint64(), p42.nextUint64(), p42.nextUint64()],
    [14276969152011380360n, 8095878257575067585n, 15838336090824644132n],
  );
  // 2**32 + 5 -> entropy words [5, 1]
  assertEquals(new PCG64(2 ** 32 + 5).nextUint64(), 14281546376153053393n);
  assertEquals(new PCG64(2n ** 32n + 5n).nextUint64(), 14281546376153053393n);
});

Deno.test("Generator methods match numpy test vectors", () => {
  const cases: [number, Record<string, unknown>][] = [
    [0, {
      ints: [8, 6, 5, 2, 3],
      rand: [0.6369616873214543, 0.2697867137638703, 0.04097352393619469],
      inter: [8, 0.2697867137638703, 6],
      big: 700346781657,
      shuf: [4, 6, 2, 7, 3, 5, 9, 0, 8, 1],
      choice: [7, 6, 5],
      bools: [false, false, false, true, true, true, true, true],
    }],
    [42, {
      ints: [0, 7, 6, 4, 4],
      rand: [0.7739560485559633, 0.4388784397520523, 0.8585979199113825],
      inter: [0, 0.4388784397520523, 7],
      big: 850973674774,
      shuf: [5, 6, 0, 7, 3, 2, 4, 9, 1, 8],
      choice: [3, 6, 6],
      bools: [true, false, false, true, true, false, true, false],
    }],
  ];
  for (const [seed, want] of cases) {
    let g = new Generator(seed);
    deepStrictEqual([0, 1, 2, 3, 4].map(() => g.integers(0, 10)), want.ints);
    g = new Generator(seed);
    deepStrictEqual([g.random(), g.random(), g.random()], want.rand);
    g = new Generator(seed);
    deepStrictEqual([g.integers(0, 10), g.uniform(0, 1), g.integers(0, 10)], want.inter);
    g = new Generator(seed);
    assertEquals(g.integers(0, 2 ** 40), want.big);
    g = new Generator(seed);
    const l = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    g.shuffle(l);
    deepStrictEqual(l, want.shuf);
    g = new Generator(seed);
    deepStrictEqual([0, 1, 2].map(() => g.choiceRange(3, 8)), want.choice);
    g = new Generator(seed);
    deepStrictEqual([0, 1, 2, 3, 4, 5, 6, 7].map(() => g.integers(0, 2) === 0), want.bools);
  }
});

Deno.test("integers(a, a+1) draws nothing; bad ranges throw", () => {
  const g = new Generator(0);
  assertEquals(g.integers(5, 6), 5);
  assertEquals(g.draws, 0);
  let threw = false;
  try {
    g.integers(3, 3);
  } catch {
    threw = true;
  }
  assertEquals(threw, true);
});

Deno.test("every Generator call of rng_traces_seed0.json replays exactly", () => {
  const traces = readFixtureJson<
    { envs: Record<string, { calls: [string, number[], unknown, number, number][] }> }
  >(`${FIXTURES_DIR}/rng_traces_seed0.json.gz`);
  let calls = 0;
  const methods = new Set<string>();
  for (
    const [envId, tr] of Object.entries<{ calls: [string, number[], unknown, number, number][] }>(
      traces.envs,
    )
  ) {
    const g = new Generator(0);
    for (const [i, [method, args, result, draws, hasU32]] of tr.calls.entries()) {
      let got: unknown;
      if (method === "integers") got = g.integers(args[0], args[1]);
      else if (method === "uniform") got = g.uniform(args[0], args[1]);
      else if (method === "choice") got = g.choiceRange(args[0], args[1]);
      else if (method === "shuffle") {
        const js: number[] = [];
        for (let k = args[0] - 1; k >= 1; k--) js.push(g.randomInterval(k));
        got = js;
      } else throw new Error(`unknown method ${method} in trace ${envId}`);
      const where = `${envId} call #${i} ${method}(${args})`;
      deepStrictEqual(got, result, where);
      assertEquals(g.draws, draws, `${where}: u64 draws`);
      assertEquals(g.bitGenerator.hasUint32 ? 1 : 0, hasU32, `${where}: has_uint32`);
      calls++;
      methods.add(method);
    }
  }
  assertEquals(calls > 3000, true);
  assertEquals(Object.keys(traces.envs).length >= 172, true, "one trace per non-WFC id");
  deepStrictEqual([...methods].sort(), ["choice", "integers", "shuffle", "uniform"]);
});
