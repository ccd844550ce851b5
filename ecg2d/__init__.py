"""ecg2d: heartbeat classification from ECG beat images (Jun et al. 2018 and beyond).

One module per workflow stage: :mod:`ecg2d.io` (records), :mod:`ecg2d.segment` (beat windows),
:mod:`ecg2d.render` (beat images), :mod:`ecg2d.augment` (crops), :mod:`ecg2d.split` (labels,
splits and manifests), :mod:`ecg2d.model` (the CNN), :mod:`ecg2d.evaluate` (metrics).
"""

__version__ = "0.1.0"
