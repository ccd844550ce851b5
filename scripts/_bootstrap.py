"""Make the ecg2d package importable from scripts run by Snakemake's ``script:``."""

import sys
from pathlib import Path


def add_package_path(scriptdir) -> None:
    root = str(Path(scriptdir).resolve().parent)
    if root not in sys.path:
        sys.path.insert(0, root)
