"""Compare two runs of the workflow: do the same configuration's outputs agree?

    .venv/bin/python bench/compare_runs.py OLD_DIR NEW_DIR [experiment ...]

For each experiment (default: jun2018 inter_patient), compares ``results/{experiment}/
predictions.csv`` byte for byte and lists every key of ``metrics.json`` whose value differs
(nested keys flattened, e.g. ``.aami_ec57.SVEB.Se``). Used to check that a refactoring leaves
behaviour unchanged: run the same config with the old and the new checkout
(``snakemake --snakefile CHECKOUT/Snakefile --directory DIR ...``), then compare. Exit status 1
if predictions differ. ``bench/compare_runs_config.yaml`` is the small configuration (10
records, tiny preset, both protocols) this was run with for the settings/modules refactoring
(data_dir set to the MIT-BIH folder).
"""

import filecmp
import json
import sys
from pathlib import Path


def flat(value, prefix=""):
    if isinstance(value, dict):
        return {k: v for key, sub in value.items() for k, v in flat(sub, f"{prefix}.{key}").items()}
    if isinstance(value, list) and value and isinstance(value[0], (dict, list)):
        return {k: v for i, sub in enumerate(value) for k, v in flat(sub, f"{prefix}[{i}]").items()}
    return {prefix: value}


def main(argv):
    old, new, *experiments = argv
    same = True
    for name in experiments or ["jun2018", "inter_patient"]:
        a, b = (Path(d) / "results" / name for d in (old, new))
        identical = filecmp.cmp(a / "predictions.csv", b / "predictions.csv", shallow=False)
        same &= identical
        ma, mb = (flat(json.loads((d / "metrics.json").read_text())) for d in (a, b))
        differ = [k for k in sorted(set(ma) | set(mb)) if ma.get(k, "—") != mb.get(k, "—")]
        print(
            f"{name}: predictions.csv {'identical' if identical else 'DIFFER'}; "
            f"metrics.json: {len(differ)} of {len(set(ma) | set(mb))} keys differ"
        )
        for key in differ:
            print(f"  {key}: {ma.get(key, '(absent)')} -> {mb.get(key, '(absent)')}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
