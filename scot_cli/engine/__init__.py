"""Execution engines: the local process (default) and Dask for scale-out."""
