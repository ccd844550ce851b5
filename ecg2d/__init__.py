"""ecg2d: heartbeat classification from ECG beat images (Jun et al. 2018 and beyond).

One module per workflow stage: :mod:`ecg2d.io` (records, downloads, atomic writes),
:mod:`ecg2d.segment` (beat windows, RR context), :mod:`ecg2d.render` (beat images),
:mod:`ecg2d.augment` (crops), :mod:`ecg2d.split` (labels, splits, manifests),
:mod:`ecg2d.model` (the CNN), :mod:`ecg2d.train` (streamed training), :mod:`ecg2d.evaluate`
(metrics), :mod:`ecg2d.detect` (QRS detectors and their scores), :mod:`ecg2d.predict` (new
recordings); :mod:`ecg2d.config` checks the configuration, :mod:`ecg2d.workflow` glues
Snakemake jobs to the package.
"""

__version__ = "0.1.0"
