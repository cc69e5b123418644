"""`make bench`: benchmarks that print their figures beside a baseline measured in the same run."""
