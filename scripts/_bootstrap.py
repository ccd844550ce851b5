"""Make the ecg2d package importable from scripts run by Snakemake's ``script:``.

A script uses the ``ecg2d`` package of its own workflow: the ``ecg2d/`` folder beside
``scripts/`` (a checkout, or a local ``module``), so that rules and package always match.
Where there is none (a remote module, whose scripts Snakemake runs from its source cache), the
installed package is used (``pip install -e .`` or ``pip install <repository>``).
"""

import importlib.util
import sys
from pathlib import Path


def workflow_root(scriptdir) -> Path | None:
    """The folder holding this workflow's ``ecg2d/`` package next to ``scripts/``, if any."""
    candidates = [Path(__file__).resolve().parent.parent]
    if scriptdir and "://" not in str(scriptdir):  # a remote module's scriptdir is a URL
        candidates.insert(0, Path(scriptdir).resolve().parent)
    for root in candidates:
        if (root / "ecg2d" / "__init__.py").is_file():
            return root
    return None


def add_package_path(scriptdir=None) -> None:
    """Put the workflow's own ``ecg2d`` first on ``sys.path``, else check it is installed.

    Raises ImportError naming ``scriptdir`` when ecg2d is neither beside the scripts nor
    installed.
    """
    root = workflow_root(scriptdir)
    if root is not None:
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        return
    if importlib.util.find_spec("ecg2d") is None:
        raise ImportError(
            f"ecg2d is neither beside the scripts ({scriptdir}) nor installed in this Python "
            f"({sys.executable}): install it with `pip install <ecg2d checkout or repository>`"
        )
