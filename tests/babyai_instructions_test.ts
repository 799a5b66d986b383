import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import { Grid } from "../lib/env/grid.ts";
import { Ball, Box, Door, Key, type WorldObj } from "../lib/env/objects.ts";
import {
  AfterInstr,
  AndInstr,
  BeforeInstr,
  GoToInstr,
  type InstrEnv,
  InstrError,
  instrFromJSON,
  ObjDesc,
  OpenInstr,
  PickupInstr,
  PutNextInstr,
} from "../lib/env/babyai/instructions.ts";

const LEFT = 0, RIGHT = 1, FORWARD = 2, PICKUP = 3, DROP = 4, TOGGLE = 5;
const DX = [1, 0, -1, 0], DY = [0, 1, 0, -1];

/** A tiny single-room world with MiniGrid's step rules for the actions the verifier sees. */
class FakeEnv implements InstrEnv {
  grid = new Grid(9, 9);
  agentX = 4;
  agentY = 4;
  agentDir = 0;
  carrying: WorldObj | null = null;
  constructor() {
    this.grid.wallRect(0, 0, 9, 9);
  }
  roomFromPos(_x: number, _y: number) {
    return { posInside: (x: number, y: number) => x >= 0 && y >= 0 && x < 9 && y < 9 };
  }
  put(o: WorldObj, x: number, y: number) {
    this.grid.set(x, y, o);
    o.initPos = [x, y];
    o.curPos = [x, y];
    return o;
  }
  /** Apply an action like MiniGridEnv.step (no reward logic). */
  act(a: number) {
    const fx = this.agentX + DX[this.agentDir], fy = this.agentY + DY[this.agentDir];
    const f = this.grid.get(fx, fy);
    if (a === LEFT) this.agentDir = (this.agentDir + 3) % 4;
    else if (a === RIGHT) this.agentDir = (this.agentDir + 1) % 4;
    else if (a === FORWARD) {
      if (f === null || f.canOverlap()) [this.agentX, this.agentY] = [fx, fy];
    } else if (a === PICKUP) {
      if (f && f.canPickup() && this.carrying === null) {
        this.carrying = f;
        f.curPos = [-1, -1];
        this.grid.set(fx, fy, null);
      }
    } else if (a === DROP) {
      if (!f && this.carrying) {
        this.grid.set(fx, fy, this.carrying);
        this.carrying.curPos = [fx, fy];
        this.carrying = null;
      }
    } else if (a === TOGGLE && f) f.toggle(this, fx, fy);
  }
}

/** Step + verify like RoomGridLevel.step (positions refreshed after drops). */
function run(
  env: FakeEnv,
  instr: { verify(a: number): string; updateObjsPoss(): void },
  acts: number[],
) {
  const out: string[] = [];
  for (const a of acts) {
    env.act(a);
    if (a === DROP) instr.updateObjsPoss();
    out.push(instr.verify(a));
  }
  return out;
}

Deno.test("ObjDesc: surface text, singular/plural, locations", () => {
  const env = new FakeEnv(); // agent (4,4) facing right: front = +x, right = +y
  env.put(new Ball("red"), 6, 4); // front
  env.put(new Ball("red"), 2, 4); // behind
  env.put(new Key("blue"), 4, 2); // left
  env.put(new Box("green"), 4, 6); // right
  assertEquals(new ObjDesc("ball", "red").surface(env), "a red ball");
  assertEquals(new ObjDesc("key", "blue").surface(env), "the blue key");
  assertEquals(new ObjDesc("ball", "red", "front").surface(env), "the red ball in front of you");
  assertEquals(new ObjDesc("ball", null, "behind").surface(env), "the ball behind you");
  assertEquals(new ObjDesc("key", null, "left").surface(env), "the key on your left");
  assertEquals(new ObjDesc("box", null, "right").surface(env), "the box on your right");
  // type null matches walls too (reference behaviour): several objects in front
  assertEquals(new ObjDesc(null, null, "front").surface(env), "a object in front of you");
  throws(() => new ObjDesc("key", null, "right").surface(env), InstrError);
  // column-major scan order, like the reference
  const d = new ObjDesc("ball", "red");
  d.findMatchingObjs(env);
  assertEquals(d.objPoss, [[2, 4], [6, 4]]);
});

Deno.test("GoToInstr: success only when facing a matching object", () => {
  const env = new FakeEnv();
  env.put(new Ball("red"), 6, 4);
  const i = new GoToInstr(new ObjDesc("ball", "red"));
  assertEquals(i.surface(env), "go to the red ball");
  i.resetVerifier(env);
  assertEquals(run(env, i, [LEFT, RIGHT, FORWARD]), ["continue", "continue", "success"]);
  assertEquals(i.numNavs(), 1);
});

Deno.test("PickupInstr: success on the matching object, strict failure on another", () => {
  const env = new FakeEnv();
  env.put(new Key("blue"), 5, 4);
  env.put(new Ball("red"), 4, 5);
  const i = new PickupInstr(new ObjDesc("ball"));
  i.resetVerifier(env);
  // picking the key is not a success; then drop it, turn to the ball and pick it up
  assertEquals(run(env, i, [PICKUP, LEFT, DROP, RIGHT, RIGHT, PICKUP]), [
    "continue",
    "continue",
    "continue",
    "continue",
    "continue",
    "success",
  ]);
  const env2 = new FakeEnv();
  env2.put(new Key("blue"), 5, 4);
  env2.put(new Ball("red"), 4, 5);
  const s = new PickupInstr(new ObjDesc("ball"), true);
  s.resetVerifier(env2);
  assertEquals(run(env2, s, [PICKUP]), ["failure"]);
  throws(() => new PickupInstr(new ObjDesc("door")), InstrError);
});

Deno.test("OpenInstr: toggling the matching door open succeeds; strict fails on another door", () => {
  const env = new FakeEnv();
  env.put(new Door("red"), 5, 4);
  env.put(new Door("blue"), 4, 5);
  const i = new OpenInstr(new ObjDesc("door", "red"));
  assertEquals(i.surface(env), "open the red door");
  i.resetVerifier(env);
  assertEquals(run(env, i, [RIGHT, TOGGLE, LEFT, FORWARD, TOGGLE]), [
    "continue",
    "continue",
    "continue",
    "continue",
    "success",
  ]);
  const env2 = new FakeEnv();
  env2.put(new Door("red"), 5, 4);
  env2.put(new Door("blue"), 4, 5);
  const s = new OpenInstr(new ObjDesc("door", "red"), true);
  s.resetVerifier(env2);
  assertEquals(run(env2, s, [RIGHT, TOGGLE]), ["continue", "failure"]);
  // closing an open matching door is not a success
  const env3 = new FakeEnv();
  env3.put(new Door("red", true), 5, 4);
  const c = new OpenInstr(new ObjDesc("door"));
  c.resetVerifier(env3);
  assertEquals(run(env3, c, [TOGGLE, TOGGLE]), ["continue", "success"]);
});

Deno.test("PutNextInstr: drop next to the fixed object succeeds, elsewhere continues", () => {
  const env = new FakeEnv();
  env.put(new Ball("red"), 5, 4);
  env.put(new Key("blue"), 7, 5);
  const i = new PutNextInstr(new ObjDesc("ball"), new ObjDesc("key"));
  assertEquals(i.surface(env), "put the ball next to the key");
  assertEquals(i.numNavs(), 2);
  i.resetVerifier(env);
  assert(!i.objsNext());
  // pick up, drop in place (not adjacent: (5,4) vs (7,5)), pick again, walk to (6,4), face down, drop at (6,5)
  assertEquals(
    run(env, i, [PICKUP, DROP, PICKUP, FORWARD, FORWARD, RIGHT, DROP]),
    ["continue", "continue", "continue", "continue", "continue", "continue", "success"],
  );
  assertEquals(env.grid.get(6, 5)?.type, "ball");
});

Deno.test("BeforeInstr / AfterInstr / AndInstr: ordering and text", () => {
  const mk = () => {
    const env = new FakeEnv();
    env.put(new Door("red"), 5, 4); // front
    env.put(new Door("blue"), 4, 5); // right
    return env;
  };
  const red = () => new OpenInstr(new ObjDesc("door", "red"));
  const blue = () => new OpenInstr(new ObjDesc("door", "blue"));

  let env = mk();
  const b = new BeforeInstr(red(), blue());
  assertEquals(b.surface(env), "open the red door, then open the blue door");
  b.resetVerifier(env);
  assertEquals(run(env, b, [TOGGLE, RIGHT, TOGGLE]), ["continue", "continue", "success"]);
  env = mk();
  const b2 = new BeforeInstr(red(), blue());
  b2.resetVerifier(env);
  // blue first: not counted, then red, then blue is already open -> toggle closes it, toggle again opens
  assertEquals(run(env, b2, [RIGHT, TOGGLE, LEFT, TOGGLE, RIGHT, TOGGLE, TOGGLE]), [
    "continue",
    "continue",
    "continue",
    "continue",
    "continue",
    "continue",
    "success",
  ]);
  env = mk();
  const bs = new BeforeInstr(red(), blue(), true);
  bs.resetVerifier(env);
  assertEquals(run(env, bs, [RIGHT, TOGGLE]), ["continue", "failure"]);

  env = mk();
  const a = new AfterInstr(red(), blue());
  assertEquals(a.surface(env), "open the red door after you open the blue door");
  a.resetVerifier(env);
  assertEquals(run(env, a, [TOGGLE, RIGHT, TOGGLE, LEFT, TOGGLE, TOGGLE]), [
    "continue",
    "continue",
    "continue",
    "continue",
    "continue",
    "success",
  ]);

  env = mk();
  const n = new AndInstr(blue(), red());
  assertEquals(n.surface(env), "open the blue door and open the red door");
  n.resetVerifier(env);
  assertEquals(run(env, n, [TOGGLE, RIGHT, TOGGLE]), ["continue", "continue", "success"]);
  assertEquals(
    new BeforeInstr(n, new PutNextInstr(new ObjDesc("ball"), new ObjDesc("key"))).numNavs(),
    4,
  );
  throws(() => new AndInstr(n as never, red()), InstrError);
});

Deno.test("instrFromJSON / toJSON round trip", () => {
  const j = {
    kind: "AfterInstr" as const,
    a: {
      kind: "AndInstr" as const,
      a: {
        kind: "GoToInstr" as const,
        desc: { type: "key" as const, color: null, loc: null },
        strict: false,
      },
      b: {
        kind: "PutNextInstr" as const,
        move: { type: "ball" as const, color: "red" as const, loc: "left" as const },
        fixed: { type: null, color: null, loc: null },
      },
    },
    b: {
      kind: "OpenInstr" as const,
      desc: { type: "door" as const, color: "grey" as const, loc: null },
      strict: false,
    },
  };
  assertEquals(instrFromJSON(j).toJSON(), j);
});
