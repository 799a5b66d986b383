"""Write W&B offline runs from payloads prepared by `deno task export wandb` (cli/export.ts).

usage: python3 tools/wandb/export_offline.py PAYLOAD.json

The payload is a JSON list of runs: {dir, id, name, project, group, config, history: [{step,
values}], summary, files: [{path, name}]} (cli/export.ts `WandbRunPayload`). Each run becomes `<dir>/wandb/offline-run-<time>-<id>/` through the
`wandb` package in offline mode, ready for `wandb sync`. No network: WANDB_MODE=offline is set
here (and by the CLI) before wandb is imported, and nothing logs in. Prints one JSON line per run:
{"dir": ..., "offline_dir": ...}.
"""

import json
import os
import shutil
import sys

# Before importing wandb: offline, silent, no git/code capture, no error reporting.
os.environ["WANDB_MODE"] = "offline"
os.environ.setdefault("WANDB_SILENT", "true")
os.environ["WANDB_DISABLE_GIT"] = "true"
os.environ["WANDB_DISABLE_CODE"] = "true"
os.environ["WANDB_ERROR_REPORTING"] = "false"

import wandb  # noqa: E402  (after the environment above)


def export_run(run):
    settings = wandb.Settings(
        mode="offline",
        silent=True,
        console="off",
        disable_git=True,
        save_code=False,
        x_disable_stats=True,
        x_disable_meta=True,
        x_save_requirements=False,
    )
    r = wandb.init(
        project=run["project"],
        dir=run["dir"],
        id=run["id"],
        name=run["name"],
        group=run.get("group"),
        job_type="train",
        config=run["config"],
        mode="offline",
        settings=settings,
    )
    try:
        for row in run["history"]:
            r.log(row["values"], step=int(row["step"]))
        r.summary.update(run["summary"])
        for f in run["files"]:  # copied into the run's files folder, uploaded by `wandb sync`
            dest = os.path.join(r.dir, f["name"])
            shutil.copyfile(f["path"], dest)
            r.save(dest, base_path=r.dir, policy="now")
        offline_dir = os.path.dirname(r.dir)  # <dir>/wandb/offline-run-*/files -> the run folder
    finally:
        r.finish()
    return offline_dir


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        runs = json.load(f)
    for run in runs:
        print(json.dumps({"dir": run["dir"], "offline_dir": export_run(run)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
