"""``sitecustomize`` of bench/gpu_paper.sh: Keras' global dtype policy from an environment variable.

Keras 3 reads no environment variable for its dtype policy (keras.json's ``floatx`` takes
float16/32/64 only, never a ``mixed_*`` policy), and ecg2d has no setting for it. So
bench/gpu_paper.sh copies this file as ``sitecustomize.py`` into a folder it puts first on
PYTHONPATH for the training step: when ``ECG2D_DTYPE_POLICY`` is set (e.g. ``mixed_bfloat16``),
``keras.config.set_dtype_policy`` is called right after ``keras`` is first imported, before any
layer exists. Processes that never import keras are untouched (keras is not imported here).
The ``sitecustomize`` that this one shadows, if any (a distribution's or a virtual
environment's), is run too.
"""

import importlib.abc
import importlib.util
import os
import sys

VARIABLE = "ECG2D_DTYPE_POLICY"


class _SetPolicyAfterKeras(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loading of the top-level ``keras`` package."""

    def find_spec(self, name, path=None, target=None):
        if name != "keras" or self not in sys.meta_path:
            return None
        sys.meta_path.remove(self)  # once only, and let the ordinary finders find keras
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_set_policy(module):
            exec_module(module)
            policy = os.environ.get(VARIABLE)
            if policy:
                module.config.set_dtype_policy(policy)
                print(f"{VARIABLE}: keras dtype policy {policy}", file=sys.stderr, flush=True)

        spec.loader.exec_module = exec_and_set_policy
        return spec


def _run_shadowed_sitecustomize() -> None:
    """Run the next ``sitecustomize.py`` on sys.path after this file's folder."""
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        path = os.path.join(os.path.abspath(entry or "."), "sitecustomize.py")
        if os.path.dirname(path) != here and os.path.isfile(path):
            spec = importlib.util.spec_from_file_location("_shadowed_sitecustomize", path)
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
            return


if os.environ.get(VARIABLE):
    sys.meta_path.insert(0, _SetPolicyAfterKeras())
_run_shadowed_sitecustomize()
