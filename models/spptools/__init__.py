"""The project's Python tools, one package: the .sppm format (sppm), the
converters (zf5, convert_torch, nanodet_extract, convert_nanodet,
reduce_trunk), the default model's data (dataset), detector evaluation
(voc_ap, compare, check_nanodet), the synthetic test detector (synth.*)
and the teacher-label review tools (teacher.*).

Run a tool as a module with models/ on the module path, from the
repository root:

  PYTHONPATH=models /usr/bin/python3 -m spptools.convert_nanodet --help

(models/README.md lists them). meson sets PYTHONPATH for the tests and
build steps that use the package, and the scripts never change the
module search path themselves.
"""
import os

# models/, where the committed models and their data live.
MODELS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The repository root.
ROOT = os.path.dirname(MODELS)
