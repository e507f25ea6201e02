"""Pages to typed, cached DataFrames: the loaders, the load pipeline, record typing and the
Parquet cache."""
