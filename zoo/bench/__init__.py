"""Benchmarks behind ``zoo bench``: COCO/BBOB (``zoo bench bbob``).

- :mod:`~zoo.bench.suite`: the bbob problems through ``cocoex`` (dimensions, optimal values);
- :mod:`~zoo.bench.runner`: one run per (method, function, instance), best-so-far traces, pycma's own IPOP /
  BIPOP anchors, COCO's own output format (``--coco-output``, for ``cocopp``);
- :mod:`~zoo.bench.scoring`: targets, fraction of (function, instance, target) triples solved, tables;
- :mod:`~zoo.bench.plots`: the runtime ECDF;
- :mod:`~zoo.bench.cli`: the command line.

``zoo.population.bbob`` (the former single module) re-exports these names.
"""
