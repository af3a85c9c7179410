"""Pure, vectorized geometry kernels over numpy, shapely and trimesh arrays.

No twin, no CRS handling and no I/O live here: functions take arrays and
return arrays, so that ``cim`` and ``scenarios`` can build on them.
"""
