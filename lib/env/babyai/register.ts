/**
 * Registers every BabyAI level id of Minigrid 3.1.0 (`minigrid/__init__.py`,
 * 96 ids) in the shared env registry, with each id's kwargs (camelCase) as
 * defaults, so `make("BabyAI-GoToLocal-v0", { numDists: 4 })` works.
 *
 * @module
 */

import { register } from "../registry_core.ts";
import type { RoomGridLevel } from "./roomgrid_level.ts";
import * as L from "./levels/mod.ts";

// deno-lint-ignore no-explicit-any
type K = any;
type Ctor = new (opts: K) => RoomGridLevel;

/** Every BabyAI id with its class and kwargs (as in minigrid/__init__.py, camelCase). */
export const BABYAI_LEVELS: ReadonlyArray<readonly [string, Ctor, Record<string, unknown>]> = [
  ["BabyAI-GoToRedBallGrey-v0", L.GoToRedBallGrey, { roomSize: 8, numDists: 7 }],
  ["BabyAI-GoToRedBall-v0", L.GoToRedBall, { roomSize: 8, numDists: 7 }],
  ["BabyAI-GoToRedBallNoDists-v0", L.GoToRedBallNoDists, {}],
  ["BabyAI-GoToObj-v0", L.GoToObj, { roomSize: 8 }],
  ["BabyAI-GoToObjS4-v0", L.GoToObj, { roomSize: 4 }],
  ["BabyAI-GoToObjS6-v1", L.GoToObj, { roomSize: 6 }],
  ["BabyAI-GoToLocal-v0", L.GoToLocal, { roomSize: 8, numDists: 8 }],
  ...([[5, 2], [6, 2], [6, 3], [6, 4], [7, 4], [7, 5], [8, 2], [8, 3], [8, 4], [8, 5], [8, 6], [
    8,
    7,
  ]] as const)
    .map(([s, n]) =>
      [`BabyAI-GoToLocalS${s}N${n}-v0`, L.GoToLocal, { roomSize: s, numDists: n }] as const
    ),
  ["BabyAI-GoTo-v0", L.GoTo, {
    roomSize: 8,
    numRows: 3,
    numCols: 3,
    numDists: 18,
    doorsOpen: false,
  }],
  ["BabyAI-GoToOpen-v0", L.GoTo, {
    roomSize: 8,
    numRows: 3,
    numCols: 3,
    numDists: 18,
    doorsOpen: true,
  }],
  ["BabyAI-GoToObjMaze-v0", L.GoTo, {
    roomSize: 8,
    numRows: 3,
    numCols: 3,
    numDists: 1,
    doorsOpen: false,
  }],
  ["BabyAI-GoToObjMazeOpen-v0", L.GoTo, {
    roomSize: 8,
    numRows: 3,
    numCols: 3,
    numDists: 1,
    doorsOpen: true,
  }],
  ["BabyAI-GoToObjMazeS4R2-v0", L.GoTo, {
    roomSize: 4,
    numRows: 2,
    numCols: 2,
    numDists: 1,
    doorsOpen: false,
  }],
  ...([4, 5, 6, 7] as const).map((s) =>
    [`BabyAI-GoToObjMazeS${s}-v0`, L.GoTo, {
      roomSize: s,
      numRows: 3,
      numCols: 3,
      numDists: 1,
      doorsOpen: false,
    }] as const
  ),
  ["BabyAI-GoToImpUnlock-v0", L.GoToImpUnlock, { roomSize: 8, numRows: 3, numCols: 3 }],
  ["BabyAI-GoToSeq-v0", L.GoToSeq, { roomSize: 8, numRows: 3, numCols: 3, numDists: 18 }],
  ["BabyAI-GoToSeqS5R2-v0", L.GoToSeq, { roomSize: 5, numRows: 2, numCols: 2, numDists: 4 }],
  ["BabyAI-GoToRedBlueBall-v0", L.GoToRedBlueBall, { roomSize: 8, numDists: 7 }],
  ["BabyAI-GoToDoor-v0", L.GoToDoor, { numRows: 3, numCols: 3 }],
  ["BabyAI-GoToObjDoor-v0", L.GoToObjDoor, { numRows: 3, numCols: 3 }],
  ["BabyAI-Open-v0", L.Open, { roomSize: 8, numRows: 3, numCols: 3 }],
  ["BabyAI-OpenRedDoor-v0", L.OpenRedDoor, {}],
  ["BabyAI-OpenDoor-v0", L.OpenDoor, { debug: false, selectBy: null, roomSize: 8 }],
  ["BabyAI-OpenDoorDebug-v0", L.OpenDoor, { debug: true, selectBy: null, roomSize: 8 }],
  ["BabyAI-OpenDoorColor-v0", L.OpenDoor, { debug: false, selectBy: "color", roomSize: 8 }],
  ["BabyAI-OpenDoorLoc-v0", L.OpenDoor, { debug: false, selectBy: "loc", roomSize: 8 }],
  ["BabyAI-OpenTwoDoors-v0", L.OpenTwoDoors, {
    firstColor: null,
    secondColor: null,
    strict: false,
  }],
  ["BabyAI-OpenRedBlueDoors-v0", L.OpenTwoDoors, {
    firstColor: "red",
    secondColor: "blue",
    strict: false,
  }],
  ["BabyAI-OpenRedBlueDoorsDebug-v0", L.OpenTwoDoors, {
    firstColor: "red",
    secondColor: "blue",
    strict: true,
  }],
  ["BabyAI-OpenDoorsOrderN2-v0", L.OpenDoorsOrder, { numDoors: 2, debug: false }],
  ["BabyAI-OpenDoorsOrderN4-v0", L.OpenDoorsOrder, { numDoors: 4, debug: false }],
  ["BabyAI-OpenDoorsOrderN2Debug-v0", L.OpenDoorsOrder, { numDoors: 2, debug: true }],
  ["BabyAI-OpenDoorsOrderN4Debug-v0", L.OpenDoorsOrder, { numDoors: 4, debug: true }],
  ["BabyAI-Pickup-v0", L.Pickup, { roomSize: 8, numRows: 3, numCols: 3 }],
  ["BabyAI-UnblockPickup-v0", L.UnblockPickup, { roomSize: 8, numRows: 3, numCols: 3 }],
  ["BabyAI-PickupLoc-v0", L.PickupLoc, { roomSize: 8 }],
  ["BabyAI-PickupDist-v0", L.PickupDist, { debug: false }],
  ["BabyAI-PickupDistDebug-v0", L.PickupDist, { debug: true }],
  ["BabyAI-PickupAbove-v0", L.PickupAbove, { numRows: 3, numCols: 3 }],
  ["BabyAI-PutNextLocal-v0", L.PutNextLocal, { roomSize: 8, numObjs: 8 }],
  ["BabyAI-PutNextLocalS5N3-v0", L.PutNextLocal, { roomSize: 5, numObjs: 3 }],
  ["BabyAI-PutNextLocalS6N4-v0", L.PutNextLocal, { roomSize: 6, numObjs: 4 }],
  ...([[4, 1], [5, 2], [5, 1], [6, 3], [7, 4]] as const).map(([s, n]) =>
    [`BabyAI-PutNextS${s}N${n}-v0`, L.PutNext, {
      roomSize: s,
      objsPerRoom: n,
      startCarrying: false,
    }] as const
  ),
  ...([[5, 2], [6, 3], [7, 4]] as const).map(([s, n]) =>
    [`BabyAI-PutNextS${s}N${n}Carrying-v0`, L.PutNext, {
      roomSize: s,
      objsPerRoom: n,
      startCarrying: true,
    }] as const
  ),
  ["BabyAI-Unlock-v0", L.Unlock, { roomSize: 8, numRows: 3, numCols: 3 }],
  ["BabyAI-UnlockLocal-v0", L.UnlockLocal, { distractors: false, roomSize: 8 }],
  ["BabyAI-UnlockLocalDist-v0", L.UnlockLocal, { distractors: true, roomSize: 8 }],
  ["BabyAI-KeyInBox-v0", L.KeyInBox, { roomSize: 8 }],
  ["BabyAI-UnlockPickup-v0", L.UnlockPickup, { distractors: false }],
  ["BabyAI-UnlockPickupDist-v0", L.UnlockPickup, { distractors: true }],
  ["BabyAI-BlockedUnlockPickup-v0", L.BlockedUnlockPickup, {}],
  ["BabyAI-UnlockToUnlock-v0", L.UnlockToUnlock, {}],
  ["BabyAI-ActionObjDoor-v0", L.ActionObjDoor, { numRows: 3, numCols: 3 }],
  ["BabyAI-FindObjS5-v0", L.FindObjS5, { roomSize: 5 }],
  ["BabyAI-FindObjS6-v0", L.FindObjS5, { roomSize: 6 }],
  ["BabyAI-FindObjS7-v0", L.FindObjS5, { roomSize: 7 }],
  ["BabyAI-KeyCorridor-v0", L.KeyCorridor, { roomSize: 6, numRows: 3, objType: "ball" }],
  ...([[3, 1], [3, 2], [3, 3], [4, 3], [5, 3], [6, 3]] as const).map(([s, r]) =>
    [`BabyAI-KeyCorridorS${s}R${r}-v0`, L.KeyCorridor, {
      roomSize: s,
      numRows: r,
      objType: "ball",
    }] as const
  ),
  ...([8, 12, 16, 20] as const).map((s) =>
    [`BabyAI-OneRoomS${s}-v0`, L.OneRoomS8, { roomSize: s }] as const
  ),
  ["BabyAI-MoveTwoAcrossS5N2-v0", L.MoveTwoAcross, { roomSize: 5, objsPerRoom: 2 }],
  ["BabyAI-MoveTwoAcrossS8N9-v0", L.MoveTwoAcross, { roomSize: 8, objsPerRoom: 9 }],
  ["BabyAI-Synth-v0", L.Synth, { roomSize: 8, numRows: 3, numCols: 3, numDists: 18 }],
  ["BabyAI-SynthS5R2-v0", L.Synth, { roomSize: 5, numRows: 2, numCols: 3, numDists: 18 }],
  ["BabyAI-SynthLoc-v0", L.SynthLoc, { roomSize: 8, numRows: 3, numCols: 3, numDists: 18 }],
  ["BabyAI-SynthSeq-v0", L.SynthSeq, { roomSize: 8, numRows: 3, numCols: 3, numDists: 18 }],
  ["BabyAI-MiniBossLevel-v0", L.MiniBossLevel, {}],
  ["BabyAI-BossLevel-v0", L.BossLevel, { roomSize: 8, numRows: 3, numCols: 3, numDists: 18 }],
  ["BabyAI-BossLevelNoUnlock-v0", L.BossLevelNoUnlock, {
    roomSize: 8,
    numRows: 3,
    numCols: 3,
    numDists: 18,
  }],
];

for (const [id, C, kw] of BABYAI_LEVELS) {
  register(id, (k: K) => new C(k), kw, ["maxSteps"]);
}
