/**
 * Synth levels (Minigrid 3.1.0 `minigrid/envs/babyai/synth.py`): random instructions from
 * LevelGen (Synth, SynthLoc, SynthSeq, MiniBossLevel, BossLevel, BossLevelNoUnlock).
 *
 * @module
 */

import { LevelGen, type LevelGenOptions } from "../levelgen.ts";

/** Union of PutNext, Open, GoTo and Pickup instructions (no locations). */
export class Synth extends LevelGen {
  /** @param opts roomSize (8), numRows (3), numCols (3), numDists (18) */
  constructor(opts: LevelGenOptions = {}) {
    super({
      ...opts,
      instrKinds: ["action"],
      locations: false,
      unblocking: true,
      implicitUnlock: false,
    });
  }
}

/** Like Synth, with locations. */
export class SynthLoc extends LevelGen {
  /** @param opts LevelGen options except the fixed ones */
  constructor(opts: LevelGenOptions = {}) {
    super({
      ...opts,
      instrKinds: ["action"],
      locations: true,
      unblocking: true,
      implicitUnlock: false,
    });
  }
}

/** Like SynthLoc, with sequences. */
export class SynthSeq extends LevelGen {
  /** @param opts LevelGen options except the fixed ones */
  constructor(opts: LevelGenOptions = {}) {
    super({ ...opts, locations: true, unblocking: true, implicitUnlock: false });
  }
}

/** The whole language, 2x2 rooms of size 5. */
export class MiniBossLevel extends LevelGen {
  /** @param opts LevelGen options except the fixed ones */
  constructor(opts: LevelGenOptions = {}) {
    super({ ...opts, numCols: 2, numRows: 2, roomSize: 5, numDists: 7, lockedRoomProb: 0.25 });
  }
}

/** The whole language (the hardest level). */
export class BossLevel extends LevelGen {}

/** BossLevel without locked rooms or implicit unlocking. */
export class BossLevelNoUnlock extends LevelGen {
  /** @param opts LevelGen options except the fixed ones */
  constructor(opts: LevelGenOptions = {}) {
    super({ ...opts, lockedRoomProb: 0, implicitUnlock: false });
  }
}
