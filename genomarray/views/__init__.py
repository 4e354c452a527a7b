"""Stage 3, region views: genome-wide arrays seen through regions, and the way back.

:func:`genomarray.views.windows.view` cuts one window per region (kernels in
:mod:`~genomarray.views.windows_fns`, geometry in :mod:`~genomarray.views.geometry`);
:mod:`~genomarray.views.predictions` gives predictions the coordinates of a view
(``from_array``) and stitches views back onto the genome (``to_genome``).
"""
