/**
 * Registers every MiniGrid 3.1.0 env id with its default kwargs (as in `minigrid/__init__.py`).
 *
 * @module
 */

import { register } from "../registry_core.ts";
import type { MiniGridEnv } from "../minigrid.ts";
import { CrossingEnv } from "./crossing.ts";
import { DistShiftEnv } from "./distshift.ts";
import { DoorKeyEnv } from "./doorkey.ts";
import { DynamicObstaclesEnv } from "./dynamicobstacles.ts";
import { EmptyEnv } from "./empty.ts";
import { FetchEnv } from "./fetch.ts";
import { FourRoomsEnv } from "./fourrooms.ts";
import { GoToDoorEnv, GoToObjectEnv } from "./gotodoor.ts";
import { KeyCorridorEnv } from "./keycorridor.ts";
import { LavaGapEnv } from "./lavagap.ts";
import { LockedRoomEnv } from "./lockedroom.ts";
import { MemoryEnv } from "./memory.ts";
import { MultiRoomEnv } from "./multiroom.ts";
import { ObstructedMaze1Dlhb, ObstructedMazeFull, ObstructedMazeFullV1 } from "./obstructedmaze.ts";
import { PlaygroundEnv } from "./playground.ts";
import { PutNearEnv } from "./putnear.ts";
import { RedBlueDoorEnv } from "./redbluedoors.ts";
import { BlockedUnlockPickupEnv, UnlockEnv, UnlockPickupEnv } from "./unlock.ts";
import { WfcEnv } from "./wfc.ts";

// deno-lint-ignore no-explicit-any
type Ctor = new (opts: any) => MiniGridEnv;

/** Register a family: every id gets the family defaults overridden by its own kwargs. */
function family(
  ctor: Ctor,
  familyDefaults: Record<string, unknown>,
  ids: [string, Record<string, unknown>][],
): void {
  for (const [id, kw] of ids) {
    register(id, (k) => new ctor(k), { ...familyDefaults, ...kw });
  }
}

family(BlockedUnlockPickupEnv, {}, [["MiniGrid-BlockedUnlockPickup-v0", {}]]);

family(CrossingEnv, { size: 9, numCrossings: 1, obstacleType: "lava" }, [
  ["MiniGrid-LavaCrossingS9N1-v0", { size: 9, numCrossings: 1 }],
  ["MiniGrid-LavaCrossingS9N2-v0", { size: 9, numCrossings: 2 }],
  ["MiniGrid-LavaCrossingS9N3-v0", { size: 9, numCrossings: 3 }],
  ["MiniGrid-LavaCrossingS11N5-v0", { size: 11, numCrossings: 5 }],
  ["MiniGrid-SimpleCrossingS9N1-v0", { size: 9, numCrossings: 1, obstacleType: "wall" }],
  ["MiniGrid-SimpleCrossingS9N2-v0", { size: 9, numCrossings: 2, obstacleType: "wall" }],
  ["MiniGrid-SimpleCrossingS9N3-v0", { size: 9, numCrossings: 3, obstacleType: "wall" }],
  ["MiniGrid-SimpleCrossingS11N5-v0", { size: 11, numCrossings: 5, obstacleType: "wall" }],
]);

family(
  DistShiftEnv,
  { width: 9, height: 7, agentStartPos: [1, 1], agentStartDir: 0, strip2Row: 2 },
  [
    ["MiniGrid-DistShift1-v0", { strip2Row: 2 }],
    ["MiniGrid-DistShift2-v0", { strip2Row: 5 }],
  ],
);

family(DoorKeyEnv, { size: 8 }, [
  ["MiniGrid-DoorKey-5x5-v0", { size: 5 }],
  ["MiniGrid-DoorKey-6x6-v0", { size: 6 }],
  ["MiniGrid-DoorKey-8x8-v0", { size: 8 }],
  ["MiniGrid-DoorKey-16x16-v0", { size: 16 }],
]);

family(DynamicObstaclesEnv, { size: 8, agentStartPos: [1, 1], agentStartDir: 0, nObstacles: 4 }, [
  ["MiniGrid-Dynamic-Obstacles-5x5-v0", { size: 5, nObstacles: 2 }],
  ["MiniGrid-Dynamic-Obstacles-Random-5x5-v0", { size: 5, agentStartPos: null, nObstacles: 2 }],
  ["MiniGrid-Dynamic-Obstacles-6x6-v0", { size: 6, nObstacles: 3 }],
  ["MiniGrid-Dynamic-Obstacles-Random-6x6-v0", { size: 6, agentStartPos: null, nObstacles: 3 }],
  ["MiniGrid-Dynamic-Obstacles-8x8-v0", {}],
  ["MiniGrid-Dynamic-Obstacles-16x16-v0", { size: 16, nObstacles: 8 }],
]);

family(EmptyEnv, { size: 8, agentStartPos: [1, 1], agentStartDir: 0 }, [
  ["MiniGrid-Empty-5x5-v0", { size: 5 }],
  ["MiniGrid-Empty-Random-5x5-v0", { size: 5, agentStartPos: null }],
  ["MiniGrid-Empty-6x6-v0", { size: 6 }],
  ["MiniGrid-Empty-Random-6x6-v0", { size: 6, agentStartPos: null }],
  ["MiniGrid-Empty-8x8-v0", {}],
  ["MiniGrid-Empty-16x16-v0", { size: 16 }],
]);

family(FetchEnv, { size: 8, numObjs: 3 }, [
  ["MiniGrid-Fetch-5x5-N2-v0", { size: 5, numObjs: 2 }],
  ["MiniGrid-Fetch-6x6-N2-v0", { size: 6, numObjs: 2 }],
  ["MiniGrid-Fetch-8x8-N3-v0", {}],
]);

family(FourRoomsEnv, { agentPos: null, goalPos: null }, [["MiniGrid-FourRooms-v0", {}]]);

family(GoToDoorEnv, { size: 5 }, [
  ["MiniGrid-GoToDoor-5x5-v0", {}],
  ["MiniGrid-GoToDoor-6x6-v0", { size: 6 }],
  ["MiniGrid-GoToDoor-8x8-v0", { size: 8 }],
]);

family(GoToObjectEnv, { size: 6, numObjs: 2 }, [
  ["MiniGrid-GoToObject-6x6-N2-v0", {}],
  ["MiniGrid-GoToObject-8x8-N2-v0", { size: 8, numObjs: 2 }],
]);

family(KeyCorridorEnv, { numRows: 3, objType: "ball", roomSize: 6 }, [
  ["MiniGrid-KeyCorridorS3R1-v0", { roomSize: 3, numRows: 1 }],
  ["MiniGrid-KeyCorridorS3R2-v0", { roomSize: 3, numRows: 2 }],
  ["MiniGrid-KeyCorridorS3R3-v0", { roomSize: 3, numRows: 3 }],
  ["MiniGrid-KeyCorridorS4R3-v0", { roomSize: 4, numRows: 3 }],
  ["MiniGrid-KeyCorridorS5R3-v0", { roomSize: 5, numRows: 3 }],
  ["MiniGrid-KeyCorridorS6R3-v0", { roomSize: 6, numRows: 3 }],
]);

family(LavaGapEnv, { size: 5, obstacleType: "lava" }, [
  ["MiniGrid-LavaGapS5-v0", { size: 5 }],
  ["MiniGrid-LavaGapS6-v0", { size: 6 }],
  ["MiniGrid-LavaGapS7-v0", { size: 7 }],
]);

family(LockedRoomEnv, { size: 19 }, [["MiniGrid-LockedRoom-v0", {}]]);

family(MemoryEnv, { size: 8, randomLength: false }, [
  ["MiniGrid-MemoryS17Random-v0", { size: 17, randomLength: true }],
  ["MiniGrid-MemoryS13Random-v0", { size: 13, randomLength: true }],
  ["MiniGrid-MemoryS13-v0", { size: 13 }],
  ["MiniGrid-MemoryS11-v0", { size: 11 }],
  ["MiniGrid-MemoryS9-v0", { size: 9 }],
  ["MiniGrid-MemoryS7-v0", { size: 7 }],
]);

family(MultiRoomEnv, { minNumRooms: 1, maxNumRooms: 1, maxRoomSize: 10, width: 25, height: 25 }, [
  ["MiniGrid-MultiRoom-N2-S4-v0", { minNumRooms: 2, maxNumRooms: 2, maxRoomSize: 4 }],
  ["MiniGrid-MultiRoom-N4-S5-v0", { minNumRooms: 6, maxNumRooms: 6, maxRoomSize: 5 }],
  ["MiniGrid-MultiRoom-N4-S5-v1", { minNumRooms: 4, maxNumRooms: 4, maxRoomSize: 5 }],
  ["MiniGrid-MultiRoom-N6-v0", { minNumRooms: 6, maxNumRooms: 6 }],
]);

family(ObstructedMaze1Dlhb, { keyInBox: true, blocked: true }, [
  ["MiniGrid-ObstructedMaze-1Dl-v0", { keyInBox: false, blocked: false }],
  ["MiniGrid-ObstructedMaze-1Dlh-v0", { keyInBox: true, blocked: false }],
  ["MiniGrid-ObstructedMaze-1Dlhb-v0", {}],
]);

const fullDefaults = {
  agentRoom: [1, 1],
  keyInBox: true,
  blocked: true,
  numQuarters: 4,
  numRoomsVisited: 25,
};
const fullIds = (v: string): [string, Record<string, unknown>][] => [
  [`MiniGrid-ObstructedMaze-2Dlhb-${v}`, {
    agentRoom: [2, 1],
    keyInBox: true,
    blocked: true,
    numQuarters: 1,
    numRoomsVisited: 4,
  }],
  [`MiniGrid-ObstructedMaze-1Q-${v}`, {
    agentRoom: [1, 1],
    keyInBox: true,
    blocked: true,
    numQuarters: 1,
    numRoomsVisited: 5,
  }],
  [`MiniGrid-ObstructedMaze-2Q-${v}`, {
    agentRoom: [2, 1],
    keyInBox: true,
    blocked: true,
    numQuarters: 2,
    numRoomsVisited: 11,
  }],
  [`MiniGrid-ObstructedMaze-Full-${v}`, {}],
];
family(ObstructedMazeFull, fullDefaults, [
  ["MiniGrid-ObstructedMaze-2Dl-v0", {
    agentRoom: [2, 1],
    keyInBox: false,
    blocked: false,
    numQuarters: 1,
    numRoomsVisited: 4,
  }],
  ["MiniGrid-ObstructedMaze-2Dlh-v0", {
    agentRoom: [2, 1],
    keyInBox: true,
    blocked: false,
    numQuarters: 1,
    numRoomsVisited: 4,
  }],
  ...fullIds("v0"),
]);
family(ObstructedMazeFullV1, fullDefaults, fullIds("v1"));

family(PlaygroundEnv, {}, [["MiniGrid-Playground-v0", {}]]);

family(PutNearEnv, { size: 6, numObjs: 2 }, [
  ["MiniGrid-PutNear-6x6-N2-v0", {}],
  ["MiniGrid-PutNear-8x8-N3-v0", { size: 8, numObjs: 3 }],
]);

family(RedBlueDoorEnv, { size: 8 }, [
  ["MiniGrid-RedBlueDoors-6x6-v0", { size: 6 }],
  ["MiniGrid-RedBlueDoors-8x8-v0", {}],
]);

family(UnlockEnv, {}, [["MiniGrid-Unlock-v0", {}]]);
family(UnlockPickupEnv, {}, [["MiniGrid-UnlockPickup-v0", {}]]);

family(WfcEnv, { size: 25, ensureConnected: true }, [
  ["MiniGrid-WFC-MazeSimple-v0", { wfcConfig: "MazeSimple" }],
  ["MiniGrid-WFC-DungeonMazeScaled-v0", { wfcConfig: "DungeonMazeScaled" }],
  ["MiniGrid-WFC-RoomsFabric-v0", { wfcConfig: "RoomsFabric" }],
  ["MiniGrid-WFC-ObstaclesBlackdots-v0", { wfcConfig: "ObstaclesBlackdots" }],
  ["MiniGrid-WFC-ObstaclesAngular-v0", { wfcConfig: "ObstaclesAngular" }],
  ["MiniGrid-WFC-ObstaclesHogs3-v0", { wfcConfig: "ObstaclesHogs3" }],
]);
